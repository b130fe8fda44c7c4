"""Tokens in a real SQLite file: hashed at rest, verified, revoked."""

from __future__ import annotations

from pathlib import Path

import pytest

from edittrace.collector.storage import open_database
from edittrace.collector.tokens import (
    Role,
    TokenError,
    create_token,
    hash_token,
    list_tokens,
    revoke_token,
    verify_token,
)


def test_token_is_stored_only_as_hash_and_verifies(tmp_path: Path) -> None:
    db = open_database(tmp_path / "c.sqlite")
    token = create_token(db, "ann")
    raw = (tmp_path / "c.sqlite").read_bytes() + (tmp_path / "c.sqlite-wal").read_bytes()
    assert token.encode() not in raw
    assert hash_token(token).encode() in raw
    check = verify_token(db, token)
    assert (check.status, check.name, check.role) == ("ok", "ann", Role.CONTRACTOR)
    assert verify_token(db, None).status == "missing"
    assert verify_token(db, token + "x").status == "unknown"


def test_researcher_role_list_and_revoke(tmp_path: Path) -> None:
    db = open_database(tmp_path / "c.sqlite")
    create_token(db, "ann")
    research = create_token(db, "rita", Role.RESEARCHER)
    assert verify_token(db, research).role is Role.RESEARCHER
    assert revoke_token(db, "rita") is True
    assert revoke_token(db, "rita") is False
    assert verify_token(db, research).status == "revoked"
    listed = {info.name: info for info in list_tokens(db)}
    assert listed["rita"].revoked is not None and listed["ann"].revoked is None
    with pytest.raises(TokenError, match="already exists"):
        create_token(db, "rita")
    with pytest.raises(TokenError, match="no token named"):
        revoke_token(db, "nobody")
