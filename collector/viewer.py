"""The replay web viewer, served by the collector under ``/replay/`` (researcher token).

Pages are static HTML/JS/CSS from ``viewer_static/`` (no build step, nothing from a CDN);
their data comes from the JSON endpoints below, computed by ``edittrace.collector.replay``:

    /replay/                          the sessions
    /replay/SESSION                   the viewer
    /replay/api/sessions              JSON: session summaries
    /replay/api/SESSION/events        JSON: timeline (event times, types, lanes)
    /replay/api/SESSION/state?seq=N   JSON: the state after seq N (or ?ts=T)

Replays run in one worker thread, one at a time, so a long first pass never stalls the
collector's event loop. The collector must answer an HTTP request within its handshake
timeout, so an answer not ready within ``EDITTRACE_REPLAY_ANSWER_WITHIN_S`` seconds
(default 4) is a 202 ``{"status": "preparing"}``: the work goes on, and the same request
made again gets the result (the pages retry by themselves). Opened sessions are kept
(with their seek checkpoints) until the session grows or falls out of a small cache.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from urllib.parse import unquote

from websockets.http11 import Response

from edittrace.collector.http import HttpRequest, register_route, respond, respond_json
from edittrace.collector.replay import Replay, ReplayMismatch, SessionReplay
from edittrace.collector.replay_timeline import state_json, summary_json, timeline_json

STATIC = Path(__file__).parent / "viewer_static"
_CACHED_SESSIONS = 8


class _Sessions:
    """Open ``SessionReplay`` objects by (database, session), dropped when the session grows."""

    def __init__(self) -> None:
        self.replays: dict[Path, Replay] = {}
        self.sessions: OrderedDict[tuple[Path, str], tuple[int, SessionReplay]] = OrderedDict()

    def replay(self, db_path: Path) -> Replay:
        if db_path not in self.replays:
            self.replays[db_path] = Replay.open(db_path)
        return self.replays[db_path]

    def session(self, db_path: Path, session_id: str) -> SessionReplay:
        replay = self.replay(db_path)
        row = replay.conn.execute(
            "SELECT max(seq) FROM events WHERE session = ?", (session_id,)
        ).fetchone()
        if row is None or row[0] is None:
            raise KeyError(session_id)
        key = (db_path, session_id)
        cached = self.sessions.get(key)
        if cached is not None and cached[0] == row[0]:
            self.sessions.move_to_end(key)
            return cached[1]
        session = replay.session(session_id)
        self.sessions[key] = (int(row[0]), session)
        while len(self.sessions) > _CACHED_SESSIONS:
            self.sessions.popitem(last=False)
        return session


_cache = _Sessions()


def _page(name: str, **values: str) -> Response:
    """An HTML page with its script and style inlined, and values for the script."""
    html = (STATIC / name).read_text()
    html = html.replace("/*STYLE*/", (STATIC / "viewer.css").read_text())
    html = html.replace("/*SCRIPT*/", (STATIC / name.replace(".html", ".js")).read_text())
    # json.dumps, then escaping "<", keeps any session id inert inside the <script>.
    config = json.dumps(values).replace("<", "\\u003c")
    html = html.replace("/*CONFIG*/", f"window.EDITTRACE = {config};")
    return respond(200, html, "text/html; charset=utf-8")


def _handle(request: HttpRequest) -> Response:
    parts = [unquote(part) for part in request.path.split("/")[2:]]
    try:
        return _route(request, parts)
    except KeyError:
        return respond_json(404, {"error": "unknown_session", "path": request.path})
    except ReplayMismatch as mismatch:
        return respond_json(
            409,
            {
                "error": "replay_mismatch",
                "session": mismatch.session,
                "seq": mismatch.seq,
                "uri": mismatch.uri,
                "expected": mismatch.expected,
                "actual": mismatch.actual,
                "detail": mismatch.detail,
            },
        )


def _html(request: HttpRequest, parts: list[str]) -> Response:
    """The two pages: answered at once, never queued behind a replay."""
    if parts in ([], [""]):
        return _page("list.html")
    if len(parts) != 1:
        return respond(404, "not found\n")
    # Its own short-lived connection: the worker's may be busy in another thread.
    conn = sqlite3.connect(f"{request.db_path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        known = conn.execute(
            "SELECT 1 FROM events WHERE session = ? LIMIT 1", (parts[0],)
        ).fetchone()
    finally:
        conn.close()
    if known is None:
        return respond(404, f"no session {parts[0]!r}\n")
    return _page("viewer.html", session=parts[0])


def _route(request: HttpRequest, parts: list[str]) -> Response:
    if parts[1:] == ["sessions"]:
        summaries = _cache.replay(request.db_path).sessions()
        return respond_json(200, {"sessions": [summary_json(s) for s in reversed(summaries)]})
    if len(parts) != 3 or parts[2] not in ("events", "state"):
        return respond_json(404, {"error": "not_found", "path": request.path})
    session = _cache.session(request.db_path, parts[1])
    if parts[2] == "events":
        return respond_json(200, timeline_json(session))
    try:
        seq = request.arg("seq")
        ts = request.arg("ts")
        state = (
            session.state_at(ts=int(ts))
            if ts is not None and seq is None
            else session.state_at(seq=int(seq or session.last_seq))
        )
    except ValueError:
        return respond_json(400, {"error": "bad_request", "detail": "seq and ts are integers"})
    return respond_json(200, state_json(state))


# One worker: replays share SQLite connections and caches, and run one at a time.
_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="edittrace-replay")
_pending: dict[tuple[str, ...], Future[Response]] = {}


def _preparing() -> Response:
    return respond_json(202, {"status": "preparing", "detail": "replaying; ask again"})


def _answer_within_s() -> float:
    return float(os.environ.get("EDITTRACE_REPLAY_ANSWER_WITHIN_S", "4"))


async def handle(request: HttpRequest) -> Response:
    """Every ``/replay/`` request; the replay work runs off the event loop (see above)."""
    parts = [unquote(part) for part in request.path.split("/")[2:]]
    if not parts or parts[0] != "api":
        return _html(request, parts)
    query = tuple(
        f"{name}={value}"
        for name, values in sorted(request.query.items())
        if name != "token"
        for value in values
    )
    key = (str(request.db_path), request.path, *query)
    job = _pending.get(key)
    within = _answer_within_s()
    if job is None:
        job = _worker.submit(_handle, request)
        _pending[key] = job
        if within <= 0:  # 0: every first request is a 202 (tests of the pages' retry use it)
            return _preparing()
    if not job.done():
        try:
            # shield: a timeout here must not cancel the job, a later request collects it.
            await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(job)), timeout=within)
        except TimeoutError:
            return _preparing()
    _pending.pop(key, None)
    return job.result()


def _bare(request: HttpRequest) -> Response:
    """``/replay`` without its slash: send the browser to ``/replay/`` (query kept)."""
    if request.path != "/replay":
        return respond(404, "not found\n")
    query = request.raw.path.partition("?")[2]
    response = respond(302, "see /replay/\n")
    response.headers["Location"] = "/replay/" + (f"?{query}" if query else "")
    return response


register_route("/replay/", handle)
register_route("/replay", _bare)
