"""A session's timeline as plain data: the lanes the web viewer draws, and states as JSON.

Everything here is derived from ``SessionReplay`` (the one replay implementation);
the browser only draws what these functions return.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from edittrace.collector.replay import SessionReplay, SessionSummary, State


def summary_json(summary: SessionSummary) -> dict[str, Any]:
    return dataclasses.asdict(summary)


def timeline_json(session: SessionReplay) -> dict[str, Any]:
    """Every event's time and type, and the lanes: edits, suggestions, ratings, ..."""
    ts: list[int] = []
    types: list[str] = []
    candidates: dict[tuple[str, int], dict[str, Any]] = {}
    ratings: list[dict[str, Any]] = []
    comparisons: list[dict[str, Any]] = []
    pauses: list[dict[str, Any]] = []
    for event in session.events():
        ts.append(event.ts)
        types.append(event.type)
        data = event.data
        if event.type == "suggestion.offered":
            for candidate in data.get("candidates") or ():
                index = int(candidate.get("index", 0))
                candidates[(str(data["suggestion"]), index)] = {
                    "suggestion": data["suggestion"],
                    "candidate": index,
                    "uri": data["uri"],
                    "text": candidate.get("text", ""),
                    "model": candidate.get("model"),
                    "arm": candidate.get("arm"),
                    "provider": candidate.get("provider"),
                    "offered_seq": event.seq,
                    "offered_ts": event.ts,
                    "shown_seq": None,
                    "shown_ts": None,
                    "ended_seq": None,
                    "ended_ts": None,
                    "outcome": None,
                    "reason": None,
                    "shown_ms": None,
                }
        elif event.type in ("suggestion.shown", "suggestion.ended"):
            lane = candidates.get((str(data["suggestion"]), int(data["candidate"])))
            if lane is None:
                continue
            if event.type == "suggestion.shown" and lane["shown_seq"] is None:
                lane.update(shown_seq=event.seq, shown_ts=event.ts)
            elif event.type == "suggestion.ended":
                lane.update(
                    ended_seq=event.seq,
                    ended_ts=event.ts,
                    outcome=data.get("outcome"),
                    reason=data.get("reason"),
                    shown_ms=data.get("shown_ms"),
                )
        elif event.type == "rating.submitted":
            ratings.append({"seq": event.seq, "ts": event.ts, **data})
        elif event.type == "comparison.choice":
            comparisons.append({"seq": event.seq, "ts": event.ts, **data})
        elif event.type == "capture.paused":
            pauses.append(
                {"from_seq": event.seq, "from_ts": event.ts, "to_seq": None, "to_ts": None}
            )
        elif event.type == "capture.resumed" and pauses and pauses[-1]["to_seq"] is None:
            pauses[-1].update(to_seq=event.seq, to_ts=event.ts)
    edits = [dataclasses.asdict(edit) for edit in session.edits()]
    return {
        "session": session.id,
        "first_ts": ts[0] if ts else None,
        "last_ts": max(ts) if ts else None,
        "last_seq": len(ts),
        "ts": ts,
        "types": types,
        "lanes": {
            "edits": edits,
            "suggestions": list(candidates.values()),
            "ratings": ratings,
            "comparisons": comparisons,
            "pauses": pauses,
        },
    }


def state_json(state: State) -> dict[str, Any]:
    """A ``State`` for the browser: text as (text, kind) segments, suggestions as maps."""
    documents = []
    for document in state.documents.values():
        segments = (
            document.segments() if document.provenance is not None else [(document.text, "typed")]
        )
        documents.append(
            {
                "uri": document.uri,
                "language_id": document.language_id,
                "version": document.version,
                "cursor": document.cursor,
                "cursor_offset": document.cursor_offset,
                "segments": [list(segment) for segment in segments],
            }
        )
    return {
        "session": state.session,
        "seq": state.seq,
        "ts": state.ts,
        "paused": state.paused,
        "documents": documents,
        "suggestions": [dataclasses.asdict(suggestion) for suggestion in state.suggestions],
    }
