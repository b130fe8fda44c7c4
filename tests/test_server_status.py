"""edittrace/status: sent when something changes; a moving queue is rate-limited."""

from __future__ import annotations

import asyncio
from typing import Any

from edittrace.server.status import StatusReporter


async def test_changes_are_sent_and_a_busy_queue_is_summarised() -> None:
    sent: list[dict[str, Any]] = []
    emptied = asyncio.Event()

    def send(payload: dict[str, Any]) -> None:
        sent.append(payload)
        if payload["queued"] == 0 and payload["connected"]:
            emptied.set()

    reporter = StatusReporter(send)
    reporter.update(recording=True)
    assert sent == [{"recording": True, "connected": False, "queued": 0, "lastError": None}]
    reporter.update(recording=True)
    assert len(sent) == 1  # nothing changed
    for queued in range(1, 50):
        reporter.update(queued=queued)
    assert len(sent) <= 2  # the queue alone is reported at most twice a second
    reporter.update(connected=True)  # anything else goes out at once, with the latest queue
    assert sent[-1] == {"recording": True, "connected": True, "queued": 49, "lastError": None}
    reporter.update(queued=0)
    await asyncio.wait_for(emptied.wait(), 10)  # the last queue figure is never lost
    assert sent[-1]["queued"] == 0
