"""Every error code a collector can send is documented with what the client should do."""

from __future__ import annotations

import re
from pathlib import Path

from edittrace.protocol import ErrorCode, ProtocolError

PROTOCOL_DOC = (Path(__file__).parent.parent / "docs" / "protocol.md").read_text()


def test_every_error_code_has_a_row_in_the_docs() -> None:
    documented = set(re.findall(r"^\| `([a-z_]+)` \| ", PROTOCOL_DOC, flags=re.MULTILINE))
    missing = {code.value for code in ErrorCode} - documented
    assert not missing, f"error codes missing from docs/protocol.md: {sorted(missing)}"


def test_the_codes_the_issue_requires_exist() -> None:
    required = {"bad_frame", "too_large", "conflict", "forbidden", "rate_limited"}
    assert required | {"unsupported_version"} <= {code.value for code in ErrorCode}


def test_protocol_error_carries_code_and_message() -> None:
    error = ProtocolError(ErrorCode.CONFLICT, "seq 4 differs from the stored one")
    assert (error.code, error.message, str(error)) == (
        ErrorCode.CONFLICT,
        "seq 4 differs from the stored one",
        "seq 4 differs from the stored one",
    )
