"""docs/replay.md: its Python examples run, and it covers every public name and key."""

from __future__ import annotations

import re
from pathlib import Path

import edittrace.collector.replay as replay_module
from edittrace.collector.replay_text import Provenance
from tests.support.sessions import realistic_session

DOC = (Path(__file__).parent.parent / "docs" / "replay.md").read_text()


def test_every_python_example_runs_against_a_real_database(tmp_path: Path) -> None:
    db_path = tmp_path / "collector.db"
    realistic_session().store(db_path)
    blocks = re.findall(r"```python\n(.*?)```", DOC, flags=re.DOTALL)
    assert len(blocks) >= 6
    namespace: dict[str, object] = {"db_path": db_path}
    for number, block in enumerate(blocks, start=1):
        try:
            exec(compile(block, f"docs/replay.md python block {number}", "exec"), namespace)
        except Exception as error:
            raise AssertionError(f"docs/replay.md example {number} fails:\n{block}") from error


def test_the_doc_names_every_public_name_and_provenance_kind() -> None:
    for name in replay_module.__all__:
        assert f"`{name}" in DOC or name in DOC, name
    for kind in Provenance:
        assert f"`{kind.label}`" in DOC, kind.label
    for key in ("space", "`+`", "`n`", "`j`", "`q`", "--print", "--at", "--verify", "==> URI"):
        assert key in DOC, key
