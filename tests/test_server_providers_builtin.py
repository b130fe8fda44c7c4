"""The builtin provider proposes useful, deterministic ghost text from the code at hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from edittrace.capture.scope import Scope
from edittrace.server.providers.base import CompletionRequest
from edittrace.server.providers.builtin import BuiltinProvider
from edittrace.server.providers.ngram import NgramModel
from edittrace.server.workspace_files import read_gitignores, read_sources

ROOT = Path(__file__).parent.parent
SOURCES = sorted((ROOT / "protocol").glob("*.py"))


@pytest.fixture(scope="module")
def model() -> NgramModel:
    return NgramModel.build(path.read_text() for path in SOURCES)


def request(prefix: str, line_suffix: str = "") -> CompletionRequest:
    line_prefix = prefix.rsplit("\n", 1)[-1]
    return CompletionRequest(
        uri="file:///w/x.py",
        language_id="python",
        prefix=prefix,
        suffix=line_suffix,
        line_prefix=line_prefix,
        line_suffix=line_suffix,
        trigger="automatic",
    )


def test_the_start_of_a_line_seen_in_the_repository_gets_its_rest(model: NgramModel) -> None:
    assert model.complete([], "from edittrace.protocol.errors import ", "") == (
        "ErrorCode, ProtocolError"
    )
    assert model.complete(["x = 1"], "from __future__ ", "") == "import annotations"


def test_a_blank_line_after_a_block_opener_gets_the_block(model: NgramModel) -> None:
    before = ["@dataclass(frozen=True, kw_only=True)", "class SessionEnd(EventData):"]
    text = model.complete(before, "    ", "")
    lines = text.split("\n")
    assert lines[0].startswith('"""Recording stopped cleanly.')
    assert '    TYPE: ClassVar[str] = "session.end"' in lines
    assert all(not line or line.startswith("    ") for line in lines[1:])


def test_an_unseen_line_is_continued_token_by_token(model: NgramModel) -> None:
    text = model.complete(["def f(value):"], "    if isinstance(value, ", "")
    assert text and "\n" not in text
    assert text.endswith(":")


def test_a_half_typed_word_is_completed(model: NgramModel) -> None:
    assert model.complete(["def f(self) -> None:"], "    raise Protocol", "").startswith("Error(")


def test_text_after_the_cursor_means_no_ghost_text(model: NgramModel) -> None:
    assert model.complete([], "from __future__ ", "import x") == ""
    # Closing brackets left by auto-pairing do not block a proposal.
    assert model.complete([], "from __future__ ", ")") != ""


def test_the_open_document_itself_is_evidence(model: NgramModel) -> None:
    before = ["zebra_count = compute_zebras(herd, include_foals=True)", "", "x = 2"]
    assert model.complete(before, "zebra_count = compute_z", "") == (
        "ebras(herd, include_foals=True)"
    )


def test_the_same_context_always_gets_the_same_proposal() -> None:
    texts = [path.read_text() for path in SOURCES]
    first = NgramModel.build(texts).complete(["x = 1"], "    return ", "")
    second = NgramModel.build(texts).complete(["x = 1"], "    return ", "")
    assert first == second != ""


async def test_provider_reads_the_workspace_in_scope_only(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("ignored/\n")
    (tmp_path / "kept.py").write_text("visible_total = add_everything(alpha, beta)\n")
    (tmp_path / "ignored").mkdir()
    (tmp_path / "ignored" / "hidden.py").write_text("hidden_total = add_nothing(gamma)\n")
    (tmp_path / "excluded.py").write_text("excluded_total = add_more(delta)\n")
    folders = [tmp_path.as_uri()]
    scope = Scope(folders, [], ["excluded.py"], read_gitignores(folders))
    provider = BuiltinProvider()
    provider.load_in_background(
        lambda: read_sources(
            folders, scope.allows, max_files=100, max_bytes=1_000_000, max_file_bytes=100_000
        )
    ).join(timeout=30)
    assert provider.ready.is_set()
    [completion] = await provider.complete(request("visible_total = add_"))
    assert completion.text == "everything(alpha, beta)"
    assert completion.provider == "builtin" and completion.model
    for typed in ("hidden_total = add_", "excluded_total = add_"):
        proposals = await provider.complete(request(typed))
        assert all("nothing" not in p.text and "more(delta)" not in p.text for p in proposals)


def test_reading_the_workspace_respects_the_byte_bound(tmp_path: Path) -> None:
    for index in range(10):
        (tmp_path / f"f{index}.py").write_text("x = 1\n" * 100)
    texts = list(
        read_sources(
            [tmp_path.as_uri()],
            lambda uri: True,
            max_files=100,
            max_bytes=1_500,
            max_file_bytes=10_000,
        )
    )
    assert len(texts) == 3


def test_a_word_defined_only_in_the_open_document_is_completed(model: NgramModel) -> None:
    before = ["def spline_reticulator(points):", "    return points", "", "x = 1"]
    assert model.complete(before, "result = spline_r", "").startswith("eticulator")
