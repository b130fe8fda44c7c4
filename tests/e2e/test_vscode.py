"""The extension in a real VS Code: what a person does there arrives in the collector.

code-server 4.139.1 (VS Code 1.139.1) with the built .vsix, driven in Debian's Chromium by
tests/e2e/drive.mjs, talking to a real collector. Screenshots and logs go to
test-artifacts/e2e-vscode/. Needs the installs of scripts/setup.d/50-vscode.sh: without them
this test FAILS (it is never skipped), saying what is missing.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.vscode import REPO, SETUP_HINT, CodeServer, find_installs
from tests.support.collector import RunningCollector

pytestmark = pytest.mark.e2e

ARTIFACTS = REPO / "test-artifacts" / "e2e-vscode"
# Configured midway, as a researcher would: two arms (both the builtin model here).
ARMS = [{"name": "arm-alpha", "provider": "builtin"}, {"name": "arm-beta", "provider": "builtin"}]
Event = dict[str, Any]


def wait_for(
    collector: RunningCollector, done: Callable[[list[Event]], bool], timeout_s: float
) -> list[Event]:
    """The collector's events once ``done`` holds for them (or as they are at the timeout)."""
    deadline = time.monotonic() + timeout_s
    events = collector.events()
    while not done(events) and time.monotonic() < deadline:
        time.sleep(0.5)
        events = collector.events()
    return events


def of(events: list[Event], kind: str, **match: Any) -> list[dict[str, Any]]:
    """The data of each event of type ``kind`` whose fields equal ``match``."""
    found = [event["data"] for event in events if event["type"] == kind]
    return [data for data in found if all(data.get(k) == v for k, v in match.items())]


def everything_arrived(events: list[Event]) -> bool:
    full_accepts = of(events, "suggestion.accepted", source="lsp")
    persistence = of(events, "suggestion.persistence")
    checkpoints = {(p["suggestion"], p["checkpoint_s"]) for p in persistence}
    return (
        len(full_accepts) >= 2
        and all((a["suggestion"], 4) in checkpoints for a in full_accepts[:2])
        and len(of(events, "rating.submitted")) >= 2
        and bool(of(events, "capture.resumed"))
        and bool(of(events, "doc.save"))
        and bool(of(events, "comparison.choice"))
    )


def test_a_person_in_vscode_is_recorded(collector: RunningCollector, tmp_path: Path) -> None:
    installs, missing = find_installs()
    if installs is None:
        pytest.fail(f"the VS Code end-to-end test needs {', '.join(missing)}: {SETUP_HINT}")

    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    # Real source files: the builtin provider models them, and the person types into one.
    for module in ("events.py", "frames.py"):
        shutil.copy(REPO / "protocol" / module, workspace / module)

    started = time.monotonic()
    timings: dict[str, float] = {}
    token = collector.token("vscode-user")
    code = CodeServer(installs, tmp_path / "vscode", workspace, ARTIFACTS)
    code.install_extension()
    timings["install_vsix_s"] = time.monotonic() - started
    code.write_settings(
        {
            "edittrace.collector.url": collector.url,
            "edittrace.outbox.path": str(tmp_path / "outbox.sqlite"),
            "edittrace.outbox.holdBackSeconds": 1,
            "edittrace.capture.persistenceCheckpoints": [2, 4],
            "edittrace.python.interpreterPath": str(Path(shutil.which("python3") or "python3")),
        }
    )
    with code.running({"EDITTRACE_TOKEN": token}):
        timings["code_server_up_s"] = time.monotonic() - started
        steps = code.drive("events.py", ARMS)
        timings["driven_s"] = time.monotonic() - started
        assert steps[-1]["step"] == "done", steps
        events = wait_for(collector, everything_arrived, timeout_s=60)
        timings["events_arrived_s"] = time.monotonic() - started
        (ARTIFACTS / "events.json").write_text(json.dumps(events, indent=1))
        extension_log = code.extension_log()
    timings["stopped_s"] = time.monotonic() - started
    (ARTIFACTS / "timings.json").write_text(json.dumps(timings, indent=1))
    print("e2e timings:", {k: round(v, 1) for k, v in timings.items()})

    # One session, from this editor, through the extension's language server.
    starts = of(events, "session.start")
    assert len(starts) == 1, starts
    assert starts[0]["editor"] == "code-server" and starts[0]["client"] == "edittrace-lsp"
    assert {event["contractor"] for event in events} == {"vscode-user"}
    assert "inline completion callbacks unavailable" not in extension_log

    # Every offer the person saw was reported shown by the extension.
    offered = {o["suggestion"]: o for o in of(events, "suggestion.offered")}
    shown = of(events, "suggestion.shown")
    assert shown and all(s["source"] == "bridge" and s["suggestion"] in offered for s in shown)
    shown_ids = [s["suggestion"] for s in shown]

    # 1 and 4: two full accepts (Tab). The item's accept command arrives over LSP first; the
    # extension's end-of-life report then confirms it (one ended event per candidate). (Text
    # typed exactly as suggested is an accept too, "inferred"; the person may do that as well.)
    accepts = of(events, "suggestion.accepted", source="lsp")
    assert len(accepts) == 2 and not any(a.get("partial") for a in accepts), accepts
    edited, kept = accepts
    for accepted in accepts:
        ended = of(events, "suggestion.ended", suggestion=accepted["suggestion"])
        assert [e["outcome"] for e in ended] == ["accepted"], ended
        assert shown_ids.count(accepted["suggestion"]) >= 1

    # The first accepted line was edited at once: measured at both checkpoints; the second kept.
    def persistence(suggestion: str) -> dict[int, dict[str, Any]]:
        found = of(events, "suggestion.persistence", suggestion=suggestion)
        return {p["checkpoint_s"]: p for p in found}

    assert sorted(persistence(edited["suggestion"])) == [2, 4]
    last = persistence(edited["suggestion"])[4]
    assert last["unchanged"] is False and last["mostly_unchanged"] is True, last
    assert last["distance"] == 2 and last["accepted_length"] == len(edited["text"]), last
    assert sorted(persistence(kept["suggestion"])) == [2, 4]
    for checkpoint in persistence(kept["suggestion"]).values():
        assert checkpoint["unchanged"] is True and checkpoint["distance"] == 0, checkpoint

    # 2: Escape dismissed the suggestion on screen: rejected, explicitly, reported by the
    # extension. (An Escape elsewhere while ghost text showed counts as a dismiss too.)
    dismissed = next(step for step in steps if step["step"] == "dismiss")["ghost"]
    rejected = of(events, "suggestion.ended", outcome="rejected")
    assert rejected and all(r["source"] == "bridge" and r["reason"] == "explicit" for r in rejected)
    first = offered[rejected[0]["suggestion"]]["candidates"][rejected[0]["candidate"]]["text"]
    assert first == dismissed, (first, dismissed)

    # 3: Ctrl+Right took one word of a suggestion, then the person typed something else.
    partials = of(events, "suggestion.partial_accept")
    assert len(partials) == 1, partials  # VS Code calls back twice; reported once
    partial = partials[0]
    assert partial["kind"] == "word" and partial["source"] == "bridge"
    candidate_text = offered[partial["suggestion"]]["candidates"][partial["candidate"]]["text"]
    assert 0 < partial["accepted_length"] < len(candidate_text)
    partial_end = of(events, "suggestion.ended", suggestion=partial["suggestion"])
    assert len(partial_end) == 1 and partial_end[0]["outcome"] != "rejected", partial_end

    # No offer ended twice, though both the extension and the edit stream may tell; those
    # superseded while typing ended "ignored".
    ended_ids = [(e["suggestion"], e["candidate"]) for e in of(events, "suggestion.ended")]
    assert sorted(ended_ids) == sorted(set(ended_ids))
    ignored = of(events, "suggestion.ended", outcome="ignored")
    assert ignored and {e["source"] for e in ignored} <= {"bridge", "inferred"}

    # 5 and 6: the quick-pick rating (via the CodeLens "Rate…") and the thumbs-up key.
    ratings = of(events, "rating.submitted")
    detailed = [r for r in ratings if r.get("stars") is not None]
    assert len(detailed) == 1, ratings
    assert detailed[0]["suggestion"] in {edited["suggestion"], kept["suggestion"]}
    assert detailed[0]["stars"] == 4
    assert detailed[0]["rubric"] == {
        "correctness": 5, "efficiency": 4, "maintainability": 3, "security": 5,
    }  # fmt: skip
    assert detailed[0]["comment"] == "clear and correct"
    assert detailed[0]["source"] == "bridge"
    thumbs = [r for r in ratings if r.get("thumbs") is not None]
    assert [(r["suggestion"], r["thumbs"], r["source"]) for r in thumbs] == [
        (kept["suggestion"], "up", "bridge")
    ]

    # 7: nothing typed while paused was recorded as it happened.
    types = [event["type"] for event in events]
    paused_at, resumed_at = types.index("capture.paused"), types.index("capture.resumed")
    assert paused_at < resumed_at
    while_paused = types[paused_at + 1 : resumed_at]
    assert not [t for t in while_paused if t.startswith(("doc.", "suggestion."))], while_paused
    typed_after = "".join(
        change["text"]
        for event in events[resumed_at:]
        if event["type"] == "doc.change"
        for change in event["data"]["changes"]
    )
    assert "after_resume = 2" in typed_after
    assert "typed_while_paused" not in json.dumps(of(events, "doc.change"))

    # 8: with two arms configured, one offer's candidates were compared blind: the panel never
    # named an arm; the choice records the candidate, the order shown and the time taken.
    choices = of(events, "comparison.choice")
    assert len(choices) == 1, choices
    choice = choices[0]
    compared = offered[choice["suggestion"]]
    assert sorted(c["arm"] for c in compared["candidates"]) == ["arm-alpha", "arm-beta"]
    assert choice["choice"] == "candidate" and choice["source"] == "bridge"
    assert sorted(choice["order"]) == [0, 1] and choice["candidate"] == choice["order"][0]
    assert choice["decision_ms"] > 0
    panel = next(step for step in steps if step["step"] == "compared")["shownText"]
    assert "Suggestion A" in panel and "Suggestion B" in panel and "arm-" not in panel

    # The screenshots of what the person saw are kept.
    assert len(list(ARTIFACTS.glob("*.png"))) >= 10
