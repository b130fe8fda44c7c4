"""End to end: a scripted editor drives ``edittrace lsp``, a real collector stores the result.

Each test starts the server as a user's editor would (the installed ``edittrace lsp``
over stdio) with a fresh outbox under ``tmp_path`` and persistence checkpoints of one and
two seconds, and then reads what reached the collector's database.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from tests.support.collector import RunningCollector
from tests.support.editor import Editor, accept_argument, eventually
from tests.support.openai_endpoint import Endpoint, endpoint

__all__ = ["endpoint"]

ROOT = Path(__file__).parent.parent

ALL_EVENT_TYPES = {
    "session.start",
    "session.end",
    "capture.paused",
    "capture.resumed",
    "doc.open",
    "doc.change",
    "doc.save",
    "doc.close",
    "doc.snapshot",
    "suggestion.offered",
    "suggestion.shown",
    "suggestion.partial_accept",
    "suggestion.accepted",
    "suggestion.ended",
    "suggestion.persistence",
    "rating.submitted",
}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A small repository: real source files from this project, one ignored directory."""
    root = tmp_path / "ws"
    root.mkdir()
    shutil.copy(ROOT / "protocol" / "events.py", root / "events.py")
    shutil.copy(ROOT / "protocol" / "frames.py", root / "frames.py")
    (root / ".gitignore").write_text("generated/\n")
    (root / "generated").mkdir()
    (root / "generated" / "out.py").write_text("generated_value = 1\n")
    return root


_TOKENS: dict[Path, str] = {}


def settings(tmp_path: Path, collector: RunningCollector | None, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "outbox": {"path": str(tmp_path / "outbox.sqlite3"), "holdBackSeconds": 0},
        "capture": {"persistenceCheckpoints": [1, 2]},
    }
    if collector is not None:
        # One contractor for every start: a session belongs to the token that began it.
        if collector.db_path not in _TOKENS:
            _TOKENS[collector.db_path] = collector.token("ann")
        base["collector"] = {"url": collector.url, "token": _TOKENS[collector.db_path]}
    base.update(extra)
    return base


def of_type(events: list[dict[str, Any]], kind: str, **match: Any) -> list[dict[str, Any]]:
    return [
        e
        for e in events
        if e["type"] == kind and all(e["data"].get(k) == v for k, v in match.items())
    ]


def stored(collector: RunningCollector, condition: Callable[[list[dict[str, Any]]], bool]) -> Any:
    def check() -> list[dict[str, Any]] | None:
        events = collector.events()
        return events if condition(events) else None

    return check


async def upload_the_rest(
    workspace: Path, tmp_path: Path, collector: RunningCollector
) -> list[dict[str, Any]]:
    """Start the server again on the same outbox until the ended session is all stored."""
    again = await Editor.start(workspace, settings(tmp_path, collector))
    try:
        events: list[dict[str, Any]] = await eventually(
            stored(collector, lambda ev: bool(of_type(ev, "session.end"))),
            what="session.end in the collector",
        )
    finally:
        await again.stop()
    return events


async def test_a_scripted_session_reaches_the_collector(
    workspace: Path, tmp_path: Path, collector: RunningCollector
) -> None:
    editor = await Editor.start(workspace, settings(tmp_path, collector))
    await editor.wait_status(recording=True, connected=True)
    editor.open(workspace / "generated" / "out.py")  # ignored by .gitignore: never captured
    editor.close()
    uri = editor.open(workspace / "events.py")

    # 1. Type the start of a line that exists elsewhere in the file; accept the ghost text.
    editor.type("from edittrace.protocol.errors import ")
    [item] = await editor.complete()
    assert item.insert_text == "ErrorCode, ProtocolError"
    accepted = accept_argument(item)
    assert item.command is not None and item.command.command == "edittrace.suggestion.accepted"
    line, column = editor.cursor
    editor.insert(item.insert_text)
    await editor.execute("edittrace.suggestion.accepted", accepted)
    # ... then edit the accepted text: "ProtocolError" becomes "ProtoError" (distance 3).
    start = column + len("ErrorCode, Proto")
    editor.replace((line, start), (line, start + len("col")), "")
    assert editor.lines[uri][line] == "from edittrace.protocol.errors import ErrorCode, ProtoError"

    # 2. Partially accept a suggestion (a word, as the bridge reports it), then move on.
    editor.end_of_line()
    editor.type("\n@dataclass(")
    partial_item = (await editor.complete())[0]
    partial = accept_argument(partial_item)
    editor.notify("edittrace/didShowCompletion", partial)
    assert isinstance(partial_item.insert_text, str)
    word = partial_item.insert_text[: len("frozen")]
    editor.insert(word)
    editor.notify(
        "edittrace/didPartiallyAcceptCompletion",
        {**partial, "kind": "word", "acceptedLength": len(word)},
    )
    editor.notify(
        "edittrace/didEndCompletion", {**partial, "reason": "ignored", "userTypingDisagreed": False}
    )

    # 3. Dismiss one (Escape in VS Code).
    editor.type("=True)\nfrom __future__ ")
    [dismissed_item] = await editor.complete()
    dismissed = accept_argument(dismissed_item)
    editor.notify("edittrace/didShowCompletion", dismissed)
    editor.notify(
        "edittrace/didEndCompletion",
        {**dismissed, "reason": "rejected", "userTypingDisagreed": False},
    )

    # 4. Rate the accepted suggestion: from its CodeLens, a thumb, stars asked for, a bad one.
    await eventually(lambda: editor.lens_refreshes > 0, what="a CodeLens refresh after accept")
    lenses = [
        lens
        for lens in await editor.code_lenses()
        if lens.command
        and lens.command.arguments
        and (lens.command.arguments[0] or {}).get("suggestion") == accepted["suggestion"]
    ]
    titles = {
        lens.command.title: lens.command.arguments[0]
        for lens in lenses
        if lens.command and lens.command.arguments
    }
    assert set(titles) == {"👍", "👎", "Rate…"}
    assert titles["👍"] == {**accepted, "thumbs": "up"}
    assert {lens.range.start.line for lens in lenses} == {line}
    await editor.execute("edittrace.suggestion.rate", titles["👍"])
    editor.answer = "★★★★"
    await editor.execute("edittrace.suggestion.rate", titles["Rate…"])
    assert editor.message_requests, "Rate… without a value should ask"
    rubric = {"correctness": 5, "efficiency": 4, "maintainability": 4, "security": 5}
    await editor.execute(
        "edittrace.suggestion.rate", {**accepted, "rubric": rubric, "comment": "tidy"}
    )
    await editor.execute("edittrace.suggestion.rate", {**accepted, "stars": 9})
    await eventually(
        lambda: any("stars" in m and "edittrace.suggestion.rate" in m for m in editor.messages()),
        what="an error message about the bad stars",
    )

    # 5. Pause, type, resume: nothing typed while paused is recorded.
    await editor.execute("edittrace.capture.pause")
    await editor.wait_status(recording=False)
    editor.type("\nwhile_paused = 1")
    await editor.execute("edittrace.capture.resume")
    await editor.wait_status(recording=True)
    editor.type("\n")
    editor.save()

    # Persistence checkpoints are 1 s and 2 s after the accept.
    await eventually(
        stored(collector, lambda ev: len(of_type(ev, "suggestion.persistence")) >= 2),
        what="two persistence checkpoints in the collector",
    )
    editor.close()
    await editor.stop()
    # What shutdown could not upload in time waits in the outbox for the next start.
    events = await upload_the_rest(workspace, tmp_path, collector)
    session = of_type(events, "suggestion.offered", suggestion=accepted["suggestion"])[0]["session"]
    events = [e for e in events if e["session"] == session]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert {e["type"] for e in events} >= ALL_EVENT_TYPES
    [start_event] = of_type(events, "session.start")
    assert start_event["data"]["client"] == "edittrace-lsp"
    assert start_event["data"]["editor"] == "scripted-editor"
    assert start_event["data"]["position_encoding"] == "utf-16"
    assert start_event["data"]["settings"]["capture"]["persistence_checkpoints_s"] == [1, 2]
    assert "token" not in str(start_event["data"]["settings"]["collector"]["token"])
    assert not any("generated" in str(e["data"].get("uri", "")) for e in events)

    # The accepted suggestion: offered by the builtin model, accepted through LSP.
    [offered] = of_type(events, "suggestion.offered", suggestion=accepted["suggestion"])
    assert offered["data"]["candidates"][0]["text"] == "ErrorCode, ProtocolError"
    assert offered["data"]["candidates"][0]["provider"] == "builtin"
    assert offered["data"]["prefix"].endswith("from edittrace.protocol.errors import ")
    [took] = of_type(events, "suggestion.accepted", suggestion=accepted["suggestion"])
    assert (took["data"]["source"], took["data"]["text"]) == ("lsp", "ErrorCode, ProtocolError")
    [ended] = of_type(events, "suggestion.ended", suggestion=accepted["suggestion"])
    assert (ended["data"]["outcome"], ended["data"]["source"]) == ("accepted", "lsp")
    persistence = of_type(events, "suggestion.persistence", suggestion=accepted["suggestion"])
    assert [p["data"]["checkpoint_s"] for p in persistence] == [1, 2]
    for point in persistence:
        assert point["data"]["unchanged"] is False
        assert point["data"]["mostly_unchanged"] is True
        assert point["data"]["distance"] == 3
        assert point["data"]["accepted_length"] == len("ErrorCode, ProtocolError")

    # The partial accept, as the bridge reported it.
    [shown] = of_type(events, "suggestion.shown", suggestion=partial["suggestion"])
    assert shown["data"]["source"] == "bridge"
    [part] = of_type(events, "suggestion.partial_accept", suggestion=partial["suggestion"])
    assert (part["data"]["kind"], part["data"]["accepted_length"]) == ("word", len(word))
    assert part["data"]["source"] == "bridge"
    [partial_end] = of_type(events, "suggestion.ended", suggestion=partial["suggestion"])
    assert (partial_end["data"]["outcome"], partial_end["data"]["source"]) == (
        "accepted",
        "bridge",
    )
    [partial_taken] = of_type(events, "suggestion.accepted", suggestion=partial["suggestion"])
    assert partial_taken["data"]["partial"] is True
    assert partial_taken["data"]["text"] == word

    # The dismissed one.
    [rejected] = of_type(events, "suggestion.ended", suggestion=dismissed["suggestion"])
    assert (rejected["data"]["outcome"], rejected["data"]["source"]) == ("rejected", "bridge")
    assert rejected["data"]["reason"] == "explicit"

    # Ratings: a thumb and the stars chosen in the dialog; the bad one was not stored.
    ratings = of_type(events, "rating.submitted", suggestion=accepted["suggestion"])
    assert [(r["data"].get("thumbs"), r["data"].get("stars")) for r in ratings] == [
        ("up", None),
        (None, 4),
        (None, None),
    ]
    assert ratings[2]["data"]["rubric"] == rubric
    assert ratings[2]["data"]["comment"] == "tidy"
    assert {r["data"]["source"] for r in ratings} == {"lsp"}

    # Nothing typed while paused.
    types_in_order = [e["type"] for e in events]
    paused_at = types_in_order.index("capture.paused")
    resumed_at = types_in_order.index("capture.resumed")
    assert "doc.change" not in types_in_order[paused_at:resumed_at]
    assert not any("while_paused" in str(e["data"].get("changes")) for e in events)
    assert of_type(events, "doc.save", uri=uri) and of_type(events, "doc.close", uri=uri)


async def test_events_survive_a_kill_9_of_the_server(
    workspace: Path, tmp_path: Path, collector: RunningCollector
) -> None:
    # First run: no collector configured, so everything waits in the outbox.
    first = await Editor.start(workspace, settings(tmp_path, None))
    await first.wait_status(recording=True)
    first.open(workspace / "frames.py")
    typed = "kill_nine_marker = 42"
    first.type(typed)
    # Every change reaches the outbox within a second; the status counts what is queued.
    await eventually(
        lambda: first.status.get("queued", 0) >= 3 + len(typed), what="the changes queued"
    )
    await first.kill()

    # Second run, same outbox, collector configured: the killed session is uploaded.
    second = await Editor.start(workspace, settings(tmp_path, collector))
    events = await eventually(
        stored(collector, lambda ev: len(of_type(ev, "doc.change")) >= len(typed)),
        what="the killed session's changes in the collector",
    )
    await second.stop()
    # Only the first run typed; the second run's own session sorts anywhere among the rows.
    killed = of_type(events, "doc.change")[0]["session"]
    mine = [e for e in events if e["session"] == killed]
    assert [e["seq"] for e in mine][:3] == [1, 2, 3]
    assert mine[0]["type"] == "session.start"
    inserted = "".join(
        change["text"] for e in of_type(mine, "doc.change") for change in e["data"]["changes"]
    )
    assert inserted == typed
    assert not of_type(mine, "session.end")  # it was killed, not shut down


async def test_a_bad_setting_is_named_to_the_user(workspace: Path, tmp_path: Path) -> None:
    editor = await Editor.start(
        workspace,
        settings(tmp_path, None, capture={"persistenceCheckpoints": "30"}),
    )
    await eventually(
        lambda: any("capture.persistenceCheckpoints" in m for m in editor.messages()),
        what="a message naming capture.persistenceCheckpoints",
    )
    editor.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"edittrace": {"provider": {"name": "gpt"}}})
    )
    await eventually(
        lambda: any("provider.name" in m and "builtin" in m for m in editor.messages()),
        what="a message naming provider.name",
    )
    # A notification without settings makes the server ask (workspace/configuration).
    editor.client.set_configuration({"outbox": {"holdBackSeconds": -5}}, section="edittrace")
    editor.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings=None)
    )
    await eventually(
        lambda: any("outbox.holdBackSeconds" in m for m in editor.messages()),
        what="a message naming outbox.holdBackSeconds, from the pulled configuration",
    )
    # The server keeps working with the defaults.
    editor.open(workspace / "events.py")
    editor.type("from __future__ ")
    assert (await editor.complete())[0].insert_text == "import annotations"
    await editor.stop()


async def test_blind_comparison_hides_the_arms(
    workspace: Path, tmp_path: Path, collector: RunningCollector
) -> None:
    arms = {"arms": [{"name": "left", "provider": "builtin"}, {"name": "right"}]}
    editor = await Editor.start(workspace, settings(tmp_path, collector, provider=arms))
    editor.open(workspace / "events.py")
    editor.type("from __future__ ")
    items = await editor.complete()
    assert len(items) == 2
    arguments = [accept_argument(item) for item in items]
    suggestion = arguments[0]["suggestion"]
    assert sorted(a["candidate"] for a in arguments) == [0, 1]
    assert "left" not in repr(items) and "right" not in repr(items)
    listed = await editor.execute("edittrace.suggestion.candidates", {"suggestion": suggestion})
    assert listed["candidates"] == [
        {"candidate": 0, "text": "import annotations"},
        {"candidate": 1, "text": "import annotations"},
    ]
    await editor.execute(
        "edittrace.comparison.choose",
        {"suggestion": suggestion, "choice": "candidate", "candidate": 1, "order": [1, 0],
         "decisionMs": 1500},
    )  # fmt: skip
    await editor.stop()
    events = await upload_the_rest(workspace, tmp_path, collector)
    [offered] = of_type(events, "suggestion.offered", suggestion=suggestion)
    assert [c["arm"] for c in offered["data"]["candidates"]] == ["left", "right"]
    assert offered["data"]["shown_order"] == [a["candidate"] for a in arguments]
    [choice] = of_type(events, "comparison.choice", suggestion=suggestion)
    assert choice["data"] == {
        "suggestion": suggestion,
        "choice": "candidate",
        "candidate": 1,
        "order": [1, 0],
        "decision_ms": 1500,
        "source": "bridge",
    }


async def test_an_outbox_that_cannot_open_is_reported(workspace: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the outbox's directory should be")
    editor = await Editor.start(workspace, {"outbox": {"path": str(blocker / "outbox.sqlite3")}})
    await eventually(
        lambda: any("cannot open the outbox" in m for m in editor.messages()),
        what="an error about the outbox",
    )
    await editor.wait_status(recording=False)
    assert "outbox" in editor.status["lastError"]
    # Suggestions are still served.
    editor.open(workspace / "events.py")
    editor.type("from __future__ ")
    assert (await editor.complete())[0].insert_text == "import annotations"
    await editor.stop()


async def test_a_rejected_token_shows_in_the_status(
    workspace: Path, tmp_path: Path, collector: RunningCollector
) -> None:
    wrong = settings(tmp_path, None)
    wrong["collector"] = {"url": collector.url, "token": "not-a-token"}
    editor = await Editor.start(workspace, wrong)
    await eventually(
        lambda: editor.status.get("lastError") and not editor.status.get("connected"),
        what=f"an error in the status (last {editor.status})",
    )
    await editor.stop()


async def test_a_slow_endpoint_never_blocks_typing_and_is_cancelled(
    workspace: Path, tmp_path: Path, endpoint: Endpoint
) -> None:
    openai = {"name": "openai", "openai": {"url": endpoint.url, "model": "m", "timeoutMs": 60_000}}
    editor = await Editor.start(workspace, settings(tmp_path, None, provider=openai))
    editor.open(workspace / "events.py")
    editor.type("def add(a, b):\n    return ")
    endpoint.held.clear()  # the endpoint will not answer until told
    params = types.InlineCompletionParams(
        context=types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Automatic
        ),
        text_document=types.TextDocumentIdentifier(editor.uri),
        position=types.Position(*editor.cursor),
    )
    slow = asyncio.ensure_future(
        editor.client.protocol.send_request_async(  # type: ignore[no-untyped-call]
            types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id="slow-1"
        )
    )
    assert await asyncio.to_thread(endpoint.received.wait, 30)
    # Typing goes on and other requests are answered while the endpoint sits on it.
    editor.type("a")
    await editor.code_lenses()
    assert not slow.done()
    editor.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="slow-1"))
    with pytest.raises(Exception, match="cancel"):
        await slow
    endpoint.held.set()
    path, body, _ = endpoint.requests[0]
    assert path == "/v1/completions" and body["model"] == "m"
    assert body["prompt"].endswith("def add(a, b):\n    return ")
    # A failing endpoint gives no ghost text and no message per keystroke.
    endpoint.status = 500
    for _ in range(3):
        editor.type(" ")
        assert await editor.complete(wait=False) == []
    endpoint.status = 200
    [item] = await editor.complete()
    assert item.insert_text == "a + b"
    assert not any("openai" in m.lower() for m in editor.messages())
    await editor.stop()
