"""Delivery against a real collector process: capture offline, upload, survive kills, 401s."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edittrace.protocol.frames import Event
from edittrace.server.delivery import Delivery, DeliveryStatus, backoff_delay
from tests.support.collector import RunningCollector

WAIT_S = 30.0


async def wait_until(condition: Callable[[], bool], what: str, within_s: float = WAIT_S) -> None:
    """Poll ``condition`` until it holds; fail saying ``what`` did not happen."""
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def session_events(count: int, first: int = 1) -> list[Event]:
    """A plausible session: start, open, then one typed character per event."""
    now = int(time.time() * 1000)
    events: list[Event] = []
    for seq in range(first, first + count):
        data: dict[str, Any]
        if seq == 1:
            data = {"client": "test", "client_version": "1", "position_encoding": "utf-16"}
            events.append(Event(seq, "session.start", now, data))
        elif seq == 2:
            data = {"uri": "file:///w/a.py", "language_id": "python", "version": 1, "text": ""}
            events.append(Event(seq, "doc.open", now, data))
        else:
            change: dict[str, Any] = {
                "range": {
                    "start": {"line": 0, "character": seq - 3},
                    "end": {"line": 0, "character": seq - 3},
                },
                "text": "x",
            }
            data = {"uri": "file:///w/a.py", "version": seq, "changes": [change]}
            events.append(Event(seq, "doc.change", now, data))
    return events


def is_connected(delivery: Delivery) -> bool:
    return delivery.status.connected


def stored_seqs(collector: RunningCollector, session: str) -> list[int]:
    return [row["seq"] for row in collector.events(session)]


async def test_captures_without_a_collector_and_uploads_once_configured(
    collector: RunningCollector, tmp_path: Path
) -> None:
    token = collector.token("ann")
    session = str(uuid.uuid4())
    statuses: list[DeliveryStatus] = []
    delivery = Delivery(tmp_path / "outbox.sqlite", hold_back_ms=0, on_status=statuses.append)
    await delivery.start()
    try:
        delivery.submit(session, session_events(40))
        await wait_until(lambda: delivery.status.queued == 40, "40 events in the outbox")
        assert collector.events() == []
        assert not is_connected(delivery)

        delivery.configure(collector.url, token)
        await wait_until(lambda: len(stored_seqs(collector, session)) == 40, "upload")
        await wait_until(lambda: delivery.status.queued == 0, "acknowledged events deleted")
        assert stored_seqs(collector, session) == list(range(1, 41))
        assert is_connected(delivery)
        assert delivery.status.last_error is None
        assert any(s.connected for s in statuses) and statuses[-1].queued == 0

        delivery.submit(session, session_events(10, first=41))  # while connected
        await wait_until(lambda: len(stored_seqs(collector, session)) == 50, "live upload")
    finally:
        await delivery.stop()
    stored = collector.events(session)
    assert [row["data"] for row in stored] == [dict(e.data) for e in session_events(50)]


async def test_outbox_survives_a_restart_of_the_server(
    collector: RunningCollector, tmp_path: Path
) -> None:
    token = collector.token("ann")
    session = str(uuid.uuid4())
    outbox = tmp_path / "outbox.sqlite"
    first = Delivery(outbox, hold_back_ms=0, on_status=lambda status: None)
    await first.start()
    first.submit(session, session_events(25))
    await first.stop()  # no collector configured: everything stays queued

    second = Delivery(outbox, hold_back_ms=0, on_status=lambda status: None)
    await second.start()
    try:
        assert second.status.queued == 25
        second.configure(collector.url, token)
        await wait_until(lambda: second.status.queued == 0, "upload after restart")
    finally:
        await second.stop()
    assert stored_seqs(collector, session) == list(range(1, 26))


async def test_collector_killed_mid_stream_gets_everything_exactly_once(
    collector: RunningCollector, tmp_path: Path
) -> None:
    token = collector.token("ann")
    session = str(uuid.uuid4())
    total = 3000
    events = session_events(total)
    delivery = Delivery(tmp_path / "outbox.sqlite", hold_back_ms=0, on_status=lambda s: None)
    await delivery.start()
    try:
        delivery.configure(collector.url, token)
        for start in range(0, 1000, 50):
            delivery.submit(session, events[start : start + 50])
        await wait_until(lambda: len(stored_seqs(collector, session)) >= 200, "some uploads")
        collector.kill()
        for start in range(1000, total, 50):  # typing goes on while the collector is down
            delivery.submit(session, events[start : start + 50])
        await wait_until(lambda: not delivery.status.connected, "the break noticed")
        assert delivery.status.last_error is not None
        collector.start()  # same port, same database
        await wait_until(lambda: delivery.status.queued == 0, "everything acknowledged", 60)
    finally:
        await delivery.stop()
    assert stored_seqs(collector, session) == list(range(1, total + 1))


async def test_a_refused_token_is_reported_then_a_good_one_connects(
    collector: RunningCollector, tmp_path: Path
) -> None:
    session = str(uuid.uuid4())
    delivery = Delivery(tmp_path / "outbox.sqlite", hold_back_ms=0, on_status=lambda s: None)
    await delivery.start()
    try:
        delivery.submit(session, session_events(5))
        delivery.configure(collector.url, "not-a-token")
        await wait_until(lambda: delivery.status.last_error is not None, "an error")
        error = delivery.status.last_error or ""
        assert "401" in error and "token" in error
        assert not is_connected(delivery)
        assert delivery.status.queued == 5  # nothing dropped

        delivery.configure(collector.url, collector.token("ann"))
        await wait_until(lambda: delivery.status.queued == 0, "upload with the good token")
        assert is_connected(delivery) and delivery.status.last_error is None
    finally:
        await delivery.stop()
    assert stored_seqs(collector, session) == [1, 2, 3, 4, 5]


async def test_a_session_of_another_contractor_is_parked_and_reported(
    collector: RunningCollector, tmp_path: Path
) -> None:
    session = str(uuid.uuid4())
    events = session_events(5)
    ann = Delivery(tmp_path / "ann.sqlite", hold_back_ms=0, on_status=lambda s: None)
    await ann.start()
    try:
        ann.configure(collector.url, collector.token("ann"))
        ann.submit(session, events)
        await wait_until(lambda: len(stored_seqs(collector, session)) == 5, "ann's upload")
    finally:
        await ann.stop()

    statuses: list[DeliveryStatus] = []
    bob = Delivery(tmp_path / "bob.sqlite", hold_back_ms=0, on_status=statuses.append)
    await bob.start()
    try:
        bob.configure(collector.url, collector.token("bob"))
        theirs = [Event(e.seq, e.type, e.ts + 1, e.data) for e in events]
        bob.submit(session, theirs)  # the same session id, claimed by ann first
        await wait_until(lambda: "forbidden" in (bob.status.last_error or ""), "forbidden")
        assert session in (bob.status.last_error or "")
        assert bob.status.queued == 5  # parked, not dropped
        other = str(uuid.uuid4())
        bob.submit(other, session_events(3))  # bob's own sessions still go through
        await wait_until(lambda: stored_seqs(collector, other) == [1, 2, 3], "bob's session")
        # The rows are visible in the database a moment before bob's ack is processed.
        await wait_until(lambda: bob.status.queued == 5, "bob's own events acknowledged")
        assert bob.status.queued == 5  # the parked session's events are still kept
    finally:
        await bob.stop()
    assert len(collector.events(session)) == 5
    assert all(row["contractor"] == "ann" for row in collector.events(session))


async def test_a_typed_key_reaches_the_collector_masked(
    collector: RunningCollector, tmp_path: Path
) -> None:
    key = "AKIA" + "R4T7Y2U9I3O6P1L5"
    session = str(uuid.uuid4())
    now = int(time.time() * 1000)
    start = {"client": "test", "client_version": "1", "position_encoding": "utf-16"}
    opened = {"uri": "file:///w/s.py", "language_id": "python", "version": 1, "text": ""}
    events = [Event(1, "session.start", now, start), Event(2, "doc.open", now, opened)]
    for index, char in enumerate("key = '" + key + "'"):
        where = {"line": 0, "character": index}
        change: dict[str, Any] = {"range": {"start": where, "end": where}, "text": char}
        data = {"uri": "file:///w/s.py", "version": index + 2, "changes": [change]}
        events.append(Event(index + 3, "doc.change", now + index * 40, data))
    delivery = Delivery(tmp_path / "outbox.sqlite", hold_back_ms=1_500, on_status=lambda s: None)
    await delivery.start()
    try:
        delivery.configure(collector.url, collector.token("ann"))
        for event in events:  # one submit per keystroke, as the server does
            delivery.submit(session, [event])
        await wait_until(lambda: len(stored_seqs(collector, session)) == len(events), "upload")
    finally:
        await delivery.stop()
    typed = "".join(
        change["text"]
        for row in collector.events(session)
        if row["type"] == "doc.change"
        for change in row["data"]["changes"]
    )
    assert typed == "key = '" + "*" * len(key) + "'"


def test_backoff_is_full_jitter_under_a_growing_cap() -> None:
    for attempt, cap in [(0, 0.5), (1, 1.0), (3, 4.0), (6, 30.0), (40, 30.0)]:
        delays = [backoff_delay(attempt) for _ in range(200)]
        assert all(0.0 <= delay <= cap for delay in delays)
        assert max(delays) > cap / 2 and min(delays) < cap / 2  # spread over the whole range


async def test_events_submitted_before_start_are_kept(tmp_path: Path) -> None:
    delivery = Delivery(tmp_path / "outbox.sqlite", hold_back_ms=0, on_status=lambda s: None)
    delivery.submit(str(uuid.uuid4()), session_events(3))
    await delivery.start()
    await wait_until(lambda: delivery.status.queued == 3, "the early events queued")
    await delivery.stop()
