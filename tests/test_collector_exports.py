"""Every export format, read back with its own reader and checked against the database.

The database is real (Store.store_batch) and holds two sessions built by SessionBuilder: the
shared ``realistic_session`` (alice) and an arena session (bob, UTF-16 positions, emoji)
whose outcomes were chosen so that every preference and KTO rule fires once.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.json
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from edittrace.cli.main import cli
from tests.support.sessions import EXPECTED_APP_TEXT, SessionBuilder, realistic_session

ALICE = "11111111-1111-4111-8111-111111111111"
BOB = "22222222-2222-4222-8222-222222222222"
APP = "file:///w/app.py"
MAIN_TS = "file:///w/main.ts"


def arena_session() -> SessionBuilder:
    b = SessionBuilder(BOB, position_encoding="utf-16", start_ms=1_767_300_000_000)
    b.open(MAIN_TS, "", language_id="typescript")
    b.type(MAIN_TS, 'const s = "é😀";\n')
    both = b.offer(MAIN_TS, ["foo();\n", "bar();\n"], models=["m-a", "m-b"], arms=["a", "b"])
    b.show(both, 0)
    b.show(both, 1)
    kept = b.accept(both, 1)  # accepted over a shown rival: one accept_vs_reject pair
    b.compare(both, "tie")  # a tie gives no pair
    b.wait(30_000)
    b.persistence(kept, 30)  # unchanged: KTO true
    single = b.offer(MAIN_TS, ["let x = 1;\n"])
    b.show(single)
    rewritten = b.accept(single)
    b.replace(MAIN_TS, rewritten.start, rewritten.end, "/* something else */\n")
    b.persistence(rewritten, 30)  # heavily edited: KTO false
    dismissed = b.offer(MAIN_TS, ["zzz"])
    b.show(dismissed)
    b.reject(dismissed)  # KTO false
    b.type(MAIN_TS, "😀x")
    b.end()
    return b


@pytest.fixture(scope="module")
def sessions() -> dict[str, SessionBuilder]:
    return {ALICE: realistic_session(ALICE), BOB: arena_session()}


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory, sessions: dict[str, SessionBuilder]) -> Path:
    path = tmp_path_factory.mktemp("db") / "collector.sqlite"
    sessions[ALICE].store(path, contractor="alice", batch_size=9)
    sessions[BOB].store(path, contractor="bob", batch_size=9)
    return path


def stored_rows(db_path: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute(
            "SELECT session, seq, type, ts, contractor, received, data FROM events "
            "ORDER BY session, seq"
        ).fetchall()
    return [
        {
            "session": s,
            "seq": q,
            "type": t,
            "ts": ts,
            "contractor": c,
            "received": r,
            "data": json.loads(d),
        }
        for s, q, t, ts, c, r, d in rows
    ]


def export(db_path: Path, output_format: str, out: Path, *options: str) -> str:
    result = CliRunner().invoke(
        cli, ["export", "--db", str(db_path), "--format", output_format, str(out), *options]
    )
    assert result.exit_code == 0, result.output
    return result.stderr


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def arrow_types(path: Path) -> dict[str, str]:
    """Column types as ``datasets.load_dataset("json", ...)`` infers them (it uses pyarrow.json):
    one consistent schema over every line, or an error."""
    return {field.name: str(field.type) for field in pyarrow.json.read_json(path).schema}


def test_jsonl_is_every_event_exactly(db_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    message = export(db_path, "jsonl", out)
    lines = read_jsonl(out)
    assert lines == stored_rows(db_path)
    assert f"wrote {len(lines)} events" in message
    bob_only = tmp_path / "bob.jsonl"
    export(db_path, "jsonl", bob_only, "--contractor", "bob")
    assert {line["session"] for line in read_jsonl(bob_only)} == {BOB}
    one = tmp_path / "one.jsonl"
    export(db_path, "jsonl", one, "--session", ALICE)
    assert [line["seq"] for line in read_jsonl(one)] == list(
        range(1, len(realistic_session(ALICE).events) + 1)
    )


def test_preference_pairs_follow_trl_and_the_rules(
    db_path: Path, tmp_path: Path, sessions: dict[str, SessionBuilder]
) -> None:
    out = tmp_path / "preference.jsonl"
    export(db_path, "preference", out)
    records = read_jsonl(out)
    # TRL's standard preference format: string prompt, chosen, rejected (+ our metadata).
    for record in records:
        assert set(record) == {"prompt", "chosen", "rejected", "metadata"}
        assert all(isinstance(record[key], str) for key in ("prompt", "chosen", "rejected"))
    types = arrow_types(out)
    assert {key: types[key] for key in ("prompt", "chosen", "rejected")} == {
        "prompt": "string", "chosen": "string", "rejected": "string"
    }  # fmt: skip
    assert types["metadata"].startswith("struct<")
    pairs = {
        (r["metadata"]["source"], r["metadata"]["session"], r["chosen"], r["rejected"])
        for r in records
    }
    assert pairs == {
        # realistic_session: candidate 1 preferred over candidate 0 in the side-by-side.
        ("comparison", ALICE, "def bye():\n    return None\n", "def bye():\n    pass\n"),
        # arena: "bar" accepted while "foo" was shown too; the tie gives nothing.
        ("accept_vs_reject", BOB, "bar();\n", "foo();\n"),
    }
    arena = next(r for r in records if r["metadata"]["session"] == BOB)
    assert arena["prompt"] == 'const s = "é😀";\n'  # the prefix at the offer
    assert arena["metadata"]["suffix"] == ""
    assert (arena["metadata"]["chosen_arm"], arena["metadata"]["rejected_arm"]) == ("b", "a")
    assert (arena["metadata"]["chosen_model"], arena["metadata"]["rejected_model"]) == (
        "m-b", "m-a"
    )  # fmt: skip
    assert arena["metadata"]["language"] == "typescript"


def test_kto_labels_follow_the_documented_policy(db_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "kto.jsonl"
    export(db_path, "kto", out)
    records = read_jsonl(out)
    for record in records:
        assert set(record) == {"prompt", "completion", "label", "metadata"}
        assert isinstance(record["prompt"], str) and isinstance(record["completion"], str)
        assert isinstance(record["label"], bool)
    types = arrow_types(out)
    assert {key: types[key] for key in ("prompt", "completion", "label")} == {
        "prompt": "string", "completion": "string", "label": "bool"
    }  # fmt: skip
    labelled = sorted(
        (r["metadata"]["session"], r["completion"], r["label"], r["metadata"]["reason"])
        for r in records
    )
    assert labelled == sorted(
        [
            # realistic: the edited accept is only "mostly unchanged" (left out), the shown
            # rejected candidate is false, the unshown one and the ignored one are left out.
            (ALICE, "def bye():\n    pass\n", False, "rejected"),
            (BOB, "bar();\n", True, "accepted_unchanged"),
            (BOB, "let x = 1;\n", False, "accepted_then_rewritten"),
            (BOB, "zzz", False, "rejected"),
        ]
    )
    # No measurement at 120 s: nothing accepted can be labelled there.
    later = tmp_path / "kto120.jsonl"
    export(db_path, "kto", later, "--kto-checkpoint", "120")
    assert all(r["metadata"]["reason"] == "rejected" for r in read_jsonl(later))


def test_progsnap2_package_reads_back_with_csv(
    db_path: Path, tmp_path: Path, sessions: dict[str, SessionBuilder]
) -> None:
    out = tmp_path / "ps2"
    export(db_path, "progsnap2", out)
    with (out / "MainTable.csv").open(newline="", encoding="utf-8") as stream:
        main = list(csv.DictReader(stream))
    with (out / "CodeStates" / "CodeStates.csv").open(newline="", encoding="utf-8") as stream:
        code = {row["CodeStateID"]: row["Code"] for row in csv.DictReader(stream)}
    with (out / "DatasetMetadata.csv").open(newline="", encoding="utf-8") as stream:
        metadata = {row["Property"]: row["Value"] for row in csv.DictReader(stream)}
    assert metadata["CodeStateRepresentation"] == "Table"
    assert metadata["IsEventOrderingConsistent"] == "true"
    stored = stored_rows(db_path)
    assert len(main) == len(stored)
    for column in ("EventType", "EventID", "SubjectID", "ToolInstances", "CodeStateID", "Order"):
        assert all(row[column] != "" for row in main), column
    assert len({row["EventID"] for row in main}) == len(main)
    assert [int(row["Order"]) for row in main] == list(range(1, len(main) + 1))
    assert all(row["CodeStateID"] in code for row in main)
    assert all(
        row["EventType"].startswith("X-")
        or row["EventType"]
        in {"Session.Start", "Session.End", "File.Open", "File.Edit", "File.Save", "File.Close"}
        for row in main
    )
    types = {(row["X-EdittraceType"], row["EventType"]) for row in main}
    assert ("doc.change", "File.Edit") in types
    assert ("suggestion.accepted", "X-Suggestion.Accepted") in types
    assert {row["SubjectID"] for row in main} == {"alice", "bob"}
    assert "Visual Studio Code 1.139.1; edittrace-lsp 0.1.0" in {
        row["ToolInstances"] for row in main
    }
    # The last code state of each document is the text the person ended with (rebuilt through
    # UTF-16 positions, emoji, a pause re-sent as a snapshot).
    for session, uri, path in ((ALICE, APP, "/w/app.py"), (BOB, MAIN_TS, "/w/main.ts")):
        last = [
            row
            for row in main
            if row["SessionID"] == session
            and row["CodeStateSection"] == path
            and row["EventType"].startswith(("File.", "X-File."))
        ][-1]
        assert code[last["CodeStateID"]] == sessions[session].text(uri)
    assert sessions[ALICE].text(APP) == EXPECTED_APP_TEXT


def test_parquet_tables_match_the_database(db_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "parquet"
    export(db_path, "parquet", out)
    events = pq.read_table(out / "events.parquet")
    stored = stored_rows(db_path)
    assert events.num_rows == len(stored)
    assert str(events.schema.field("seq").type) == "int64"
    assert str(events.schema.field("time").type) == "timestamp[ms, tz=UTC]"
    rows = events.to_pylist()
    assert [(r["session"], r["seq"], r["type"], r["ts"]) for r in rows] == [
        (s["session"], s["seq"], s["type"], s["ts"]) for s in stored
    ]
    assert [json.loads(r["data"]) for r in rows] == [s["data"] for s in stored]
    suggestions = pq.read_table(out / "suggestions.parquet").to_pylist()
    offered = sum(len(s["data"]["candidates"]) for s in stored if s["type"] == "suggestion.offered")
    assert len(suggestions) == offered == 8
    bar = next(r for r in suggestions if r["text"] == "bar();\n")
    assert (bar["arm"], bar["model"], bar["shown"], bar["accepted"], bar["accepted_chars"]) == (
        "b", "m-b", True, True, 7
    )  # fmt: skip
    assert (bar["unchanged_30"], bar["distance_30"], bar["language"]) == (True, 0, "typescript")
    assert bar["outcome"] == "accepted"


def test_empty_selection_still_gives_typed_parquet(db_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "none"
    export(db_path, "parquet", out, "--contractor", "nobody")
    assert pq.read_table(out / "events.parquet").num_rows == 0
    suggestions = pq.read_table(out / "suggestions.parquet")
    assert suggestions.num_rows == 0 and "accepted" in suggestions.column_names


def test_long_exports_show_a_progress_bar(tmp_path: Path) -> None:
    b = SessionBuilder("33333333-3333-4333-8333-333333333333")
    b.open(APP, "")
    b.type(APP, "x" * 5_100)
    path = tmp_path / "long.sqlite"
    b.store(path)
    message = export(path, "jsonl", tmp_path / "long.jsonl")
    assert "exporting events" in message
    assert len(read_jsonl(tmp_path / "long.jsonl")) == len(b.events)


def test_wrong_kind_of_output_is_refused(db_path: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["export", "--db", str(db_path), "--format", "jsonl", str(tmp_path)]
    )
    assert result.exit_code == 2 and "writes a file" in result.output


def test_export_runs_as_a_real_command(db_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "prefs.jsonl"
    command = [sys.executable, "-m", "edittrace.cli", "export", "--db", str(db_path)]
    completed = subprocess.run(
        [*command, "--format", "preference", str(out), "--contractor", "bob"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "wrote 1 pairs" in completed.stderr
    assert read_jsonl(out)[0]["chosen"] == "bar();\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32"])
def test_progsnap2_code_states_in_every_position_encoding(encoding: str, tmp_path: Path) -> None:
    b = SessionBuilder("44444444-4444-4444-8444-444444444444", position_encoding=encoding)
    b.open(APP, "first line\n")
    b.type(APP, "naïve 😀 über\nzweite Zeile ß\n")
    b.replace(APP, 3, 9, "→😀←")
    b.backspace(APP, 2)
    b.type(APP, "end 🎉")
    path = tmp_path / "enc.sqlite"
    b.store(path)
    out = tmp_path / "ps2"
    export(path, "progsnap2", out)
    with (out / "MainTable.csv").open(newline="", encoding="utf-8") as stream:
        last = list(csv.DictReader(stream))[-1]
    with (out / "CodeStates" / "CodeStates.csv").open(newline="", encoding="utf-8") as stream:
        code = {row["CodeStateID"]: row["Code"] for row in csv.DictReader(stream)}
    assert code[last["CodeStateID"]] == b.text(APP)


def test_progsnap2_code_states_agree_with_replay_at_every_document_event(
    db_path: Path, tmp_path: Path
) -> None:
    """Two independent rebuilds of the documents (ours and the replay API's) must agree."""
    from edittrace.collector.replay import Replay

    out = tmp_path / "ps2"
    export(db_path, "progsnap2", out)
    with (out / "MainTable.csv").open(newline="", encoding="utf-8") as stream:
        main = list(csv.DictReader(stream))
    with (out / "CodeStates" / "CodeStates.csv").open(newline="", encoding="utf-8") as stream:
        code = {row["CodeStateID"]: row["Code"] for row in csv.DictReader(stream)}
    uris = {"/w/app.py": APP, "/w/main.ts": MAIN_TS}
    checked = 0
    with Replay.open(db_path) as replay:
        for row in main:
            if row["EventType"] not in ("File.Open", "File.Edit", "File.Save", "X-File.Snapshot"):
                continue
            state = replay.session(row["SessionID"]).state_at(int(row["X-Seq"]))
            assert code[row["CodeStateID"]] == state.text(uris[row["CodeStateSection"]]), row
            checked += 1
    assert checked > 50


def test_every_export_column_is_described_in_the_docs(db_path: Path, tmp_path: Path) -> None:
    docs = (Path(__file__).parent.parent / "docs" / "exports.md").read_text(encoding="utf-8")
    export(db_path, "parquet", tmp_path / "pq")
    export(db_path, "preference", tmp_path / "p.jsonl")
    export(db_path, "kto", tmp_path / "k.jsonl")
    export(db_path, "progsnap2", tmp_path / "ps2")
    columns = set(pq.read_table(tmp_path / "pq" / "events.parquet").column_names)
    columns |= set(pq.read_table(tmp_path / "pq" / "suggestions.parquet").column_names)
    for name in ("p.jsonl", "k.jsonl"):
        for record in read_jsonl(tmp_path / name):
            columns |= set(record) | set(record["metadata"])
    with (tmp_path / "ps2" / "MainTable.csv").open(newline="", encoding="utf-8") as stream:
        columns |= set(next(csv.reader(stream)))
    for column in sorted(columns):
        generic = column.replace("_30", "_X").replace("correctness", "K")
        side = column.replace("chosen_", "").replace("rejected_", "")
        assert any(f"`{name}`" in docs for name in (column, generic, side)), column
