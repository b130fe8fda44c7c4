"""The replay web viewer, served by a real collector process, seen over HTTP and in Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.support.collector import RunningCollector
from tests.support.sessions import EXPECTED_APP_TEXT, SessionBuilder, realistic_session

APP = "file:///w/app.py"
REPO = Path(__file__).parent.parent
ARTIFACTS = REPO / "test-artifacts"
PLAYWRIGHT = (
    Path(os.environ.get("EDITTRACE_CACHE", Path.home() / ".cache" / "edittrace"))
    / "pw"
    / "node_modules"
)


def get(url: str, token: str | None = None, header: bool = False) -> tuple[int, str]:
    if token is not None and not header:
        url += ("&" if "?" in url else "?") + f"token={token}"
    request = urllib.request.Request(url)
    if token is not None and header:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def get_json(url: str, token: str) -> Any:
    status, body = get(url, token, header=True)
    assert status == 200, body
    return json.loads(body)


@pytest.fixture
def recorded(collector: RunningCollector) -> tuple[RunningCollector, SessionBuilder, str]:
    """A collector whose database holds the realistic session (keeping its history)."""
    builder = realistic_session(keep_history=True)
    builder.store(collector.db_path)
    return collector, builder, collector.token("rita", researcher=True)


def test_only_researcher_tokens_open_the_viewer(
    recorded: tuple[RunningCollector, SessionBuilder, str],
) -> None:
    collector, _, researcher = recorded
    contractor = collector.token("carl")
    for path in ("/replay/", "/replay/session-1", "/replay/api/session-1/state?seq=3"):
        assert get(collector.http_url + path)[0] == 401
        assert get(collector.http_url + path, contractor)[0] == 403
        assert get(collector.http_url + path, contractor, header=True)[0] == 403
        assert get(collector.http_url + path, researcher)[0] == 200
        assert get(collector.http_url + path, researcher, header=True)[0] == 200
    _, page = get(collector.http_url + "/replay/session-1", researcher)
    assert "<title>edittrace replay</title>" in page and '"session": "session-1"' in page
    assert get(collector.http_url + "/replay/nope", researcher)[0] == 404
    # /replay without its slash leads to the list (urllib follows the redirect).
    status, listing = get(collector.http_url + "/replay", researcher)
    assert status == 200 and "edittrace replay: sessions" in listing
    assert get(collector.http_url + "/replayer", researcher)[0] == 404
    assert get(collector.http_url + "/replay/api/nope/events", researcher)[0] == 404


def test_state_endpoint_gives_the_text_provenance_and_ghost_text_of_any_seq(
    recorded: tuple[RunningCollector, SessionBuilder, str],
) -> None:
    collector, builder, token = recorded
    assert builder.history is not None
    api = collector.http_url + "/replay/api/session-1"
    for seq in (len(builder.events), 1, 7, 25, 40):
        state = get_json(f"{api}/state?seq={seq}", token)
        texts = {d["uri"]: "".join(t for t, _ in d["segments"]) for d in state["documents"]}
        assert texts == builder.history[seq - 1], seq
    final = get_json(f"{api}/state?seq={len(builder.events)}", token)
    assert "".join(text for text, _ in final["documents"][0]["segments"]) == EXPECTED_APP_TEXT
    assert ["Hi", "typed"] in final["documents"][0]["segments"]
    assert ["PI = 3.14159\n", "pasted"] in final["documents"][0]["segments"]
    shown = next(e for e in builder.events if e.type == "suggestion.shown")
    moment = get_json(f"{api}/state?ts={shown.ts}", token)
    assert moment["seq"] == shown.seq
    assert [s["ghost_text"] for s in moment["suggestions"]] == ['return "Hello, " + name\n']
    assert get(f"{api}/state?seq=abc", token, header=True)[0] == 400


def test_events_endpoint_has_lanes_for_suggestions_ratings_comparisons_and_pauses(
    recorded: tuple[RunningCollector, SessionBuilder, str],
) -> None:
    collector, builder, token = recorded
    timeline = get_json(collector.http_url + "/replay/api/session-1/events", token)
    assert timeline["last_seq"] == len(builder.events)
    assert timeline["types"] == [e.type for e in builder.events]
    lanes = timeline["lanes"]
    outcomes = [(c["suggestion"], c["candidate"], c["outcome"]) for c in lanes["suggestions"]]
    assert outcomes == [
        ("session-1-sugg-1", 0, "accepted"),
        ("session-1-sugg-2", 0, "rejected"),
        ("session-1-sugg-2", 1, "rejected"),
        ("session-1-sugg-3", 0, "ignored"),
    ]
    accepted = lanes["suggestions"][0]
    assert accepted["shown_ms"] == accepted["ended_ts"] - accepted["shown_ts"] > 900
    assert [(r["thumbs"], r["stars"]) for r in lanes["ratings"]] == [("up", 4)]
    assert [(c["choice"], c["candidate"]) for c in lanes["comparisons"]] == [("candidate", 1)]
    assert len(lanes["pauses"]) == 1 and lanes["pauses"][0]["to_seq"] is not None
    kinds = {edit["kind"] for edit in lanes["edits"]}
    assert {"typed", "pasted", "accepted", "deleted"} <= kinds


def test_a_forged_snapshot_answers_409_with_where(collector: RunningCollector) -> None:
    b = SessionBuilder("forged")
    b.open(APP, "abc")
    b.type(APP, "d")
    b.snapshot(APP, text="abcX")
    b.store(collector.db_path)
    token = collector.token("rita", researcher=True)
    status, body = get(collector.http_url + f"/replay/api/forged/state?seq={b.last_seq}", token)
    assert status == 409
    answer = json.loads(body)
    assert (answer["error"], answer["seq"], answer["uri"]) == ("replay_mismatch", b.last_seq, APP)


@pytest.fixture(params=["4", "0"], ids=["prompt-answers", "every-answer-202-first"])
def answer_within(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """How long the collector waits for a replay before answering 202 (set before it starts)."""
    value = str(request.param)
    monkeypatch.setenv("EDITTRACE_REPLAY_ANSWER_WITHIN_S", value)
    return value


def test_the_viewer_in_chromium_shows_the_document_lanes_and_ghost_text(
    answer_within: str, recorded: tuple[RunningCollector, SessionBuilder, str]
) -> None:
    collector, builder, token = recorded
    assert builder.history is not None
    node = shutil.which("node")
    assert node, "node is missing"
    assert (PLAYWRIGHT / "playwright-core").is_dir(), "run scripts/setup.d/20-replay.sh"
    artifacts = ARTIFACTS / ("viewer-202-first" if answer_within == "0" else "viewer")
    artifacts.mkdir(parents=True, exist_ok=True)
    seq = 30
    done = subprocess.run(
        [
            node,
            str(REPO / "tests" / "browser" / "replay_viewer.cjs"),
            f"{collector.http_url}/replay/?token={token}",
            "session-1",
            str(seq),
            str(artifacts),
        ],
        capture_output=True,
        text=True,
        timeout=400,
        env={**os.environ, "NODE_PATH": str(PLAYWRIGHT)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)

    assert any("session-1" in row and "alice" in row for row in seen["listRows"])
    assert "token=" in seen["viewerUrl"]
    # The suggestions lane: the accepted one green, and the rejected pair side by side.
    outcomes = [(bar["suggestion"], bar["outcome"]) for bar in seen["bars"]]
    assert ("session-1-sugg-1", "accepted") in outcomes
    assert outcomes.count(("session-1-sugg-2", "rejected")) == 2
    accepted = next(bar for bar in seen["bars"] if bar["outcome"] == "accepted")
    assert "on screen" in accepted["title"] and accepted["width"] > 3
    shown_ms = next(
        e.data["shown_ms"]
        for e in builder.events
        if e.type == "suggestion.ended" and e.data["outcome"] == "accepted"
    )
    assert accepted["label"] == f"accepted {shown_ms / 1000:.1f} s"
    assert accepted["shownColour"] == "rgb(26, 127, 55)"
    assert seen["ratings"] == ["\N{THUMBS UP SIGN} 4\N{BLACK STAR}"]
    assert seen["comparisons"] == ["chose #1"]
    assert seen["pauses"] == 1

    # The document as the person had it: at the end, at a typed seq, one step later, scrubbed.
    assert seen["atEnd"]["text"] == EXPECTED_APP_TEXT
    assert ["pasted", "PI = 3.14159\n"] in seen["atEnd"]["kinds"]
    assert seen["atSeq"]["text"] == builder.history[seq - 1][APP]
    assert seen["atSeq"]["readout"].startswith(f"seq {seq} / {len(builder.events)}")
    assert seen["afterStep"]["text"] == builder.history[seq][APP]
    scrubbed = int(seen["afterScrub"]["seq"])
    assert 1 < scrubbed < len(builder.events)
    expected = builder.history[scrubbed - 1].get(APP, "(no open document)")
    assert seen["afterScrub"]["text"] == expected

    # Clicking the accepted suggestion shows its ghost text, dimmed, where it was on screen.
    at_bar = seen["atAcceptedBar"]
    assert at_bar["ghost"] == 'return "Hello, " + name\n'
    assert at_bar["text"] == "import os\ndef greet(name):\n    "
    assert at_bar["ghostColour"] == "rgb(140, 149, 159)"
    assert "session-1-sugg-1 #0 shown (model-a)" in at_bar["onScreen"]
    assert (artifacts / "replay-accepted-suggestion.png").stat().st_size > 10_000


def test_an_answer_that_takes_long_is_a_202_and_the_same_request_collects_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Answer within 0 s: every first request is still being replayed when the answer is due.
    monkeypatch.setenv("EDITTRACE_REPLAY_ANSWER_WITHIN_S", "0")
    running = RunningCollector(tmp_path / "collector.sqlite")
    running.start()
    try:
        builder = realistic_session(keep_history=True)
        builder.store(running.db_path)
        token = running.token("rita", researcher=True)
        url = running.http_url + "/replay/api/session-1/state?seq=30"
        first_status, first_body = get(url, token)
        assert first_status == 202 and json.loads(first_body)["status"] == "preparing"
        deadline = time.monotonic() + 30
        status, body = first_status, first_body
        while status == 202 and time.monotonic() < deadline:
            time.sleep(0.05)
            status, body = get(url, token, header=True)  # the token may come either way
        assert status == 200
        state = json.loads(body)
        assert builder.history is not None
        assert "".join(t for t, _ in state["documents"][0]["segments"]) == builder.history[29][APP]
    finally:
        running.kill()
