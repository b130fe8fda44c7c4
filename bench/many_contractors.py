"""Many contractors at once: send->ack latency, collector memory per connection, nothing lost.

    .venv/bin/python -m bench.many_contractors [--connections 1000] [--seconds 60]
        [--events-per-second 10] [--batch-interval-ms 500]

Starts ``edittrace collector serve`` as a subprocess with one contractor token per connection,
opens ``--connections`` websockets, and has each send ``--events-per-second`` typing events
in small batches every ``--batch-interval-ms`` (random phase) for ``--seconds``. Prints p50,
p99 and max time from send to ack (targets: p99 <= 250 ms), the collector's resident memory
per connection from /proc/PID/status (target <= 64 KiB), and checks in the database that every
acknowledged event is stored exactly once. The open-file limit is raised for the client and
the collector it starts. The client runs on the same machine and competes for its cores, and
its own event-loop lag is part of the latency it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench._client import cpu_seconds, machine_note, raise_fd_limit, rss_kib, typing_events
from edittrace.collector.storage import open_database
from edittrace.collector.tokens import create_token
from edittrace.protocol import Ack, Batch, Hello, decode_frame, encode_frame
from tests.support.collector import RunningCollector, bearer


@dataclass
class Contractor:
    token: str
    session: str = field(default_factory=lambda: str(uuid.uuid4()))
    sent_seq: int = 0
    acked_seq: int = 0
    sent_at: dict[int, float] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    refused: int = 0
    dropped: str | None = None


async def open_connection(url: str, contractor: Contractor) -> ClientConnection:
    # No client keepalive: on a saturated machine a late pong would drop the connection,
    # and the acks already show the connection is alive.
    ws = await connect(
        url,
        additional_headers=bearer(contractor.token),
        compression=None,
        open_timeout=120,
        ping_interval=None,
    )
    hello = Hello(sessions=(contractor.session,), client_name="bench", client_version="1")
    await ws.send(encode_frame(hello))
    decode_frame(await ws.recv())
    return ws


async def read_acks(ws: ClientConnection, contractor: Contractor) -> None:
    try:
        await _read_acks(ws, contractor)
    except ConnectionClosed as closed:
        if closed.sent is None or closed.sent.code != 1000:  # not our own close at the end
            contractor.dropped = str(closed)


async def _read_acks(ws: ClientConnection, contractor: Contractor) -> None:
    async for message in ws:
        frame = decode_frame(message)
        now = time.perf_counter()
        if isinstance(frame, Ack):
            contractor.acked_seq = max(contractor.acked_seq, frame.acked)
            sent = contractor.sent_at.pop(frame.acked, None)
            if sent is not None:
                contractor.latencies_ms.append((now - sent) * 1000)
        else:
            contractor.refused += 1


async def send_for(
    ws: ClientConnection, contractor: Contractor, per_batch: int, interval_s: float, until: float
) -> None:
    rng = random.Random(contractor.session)
    await asyncio.sleep(rng.random() * interval_s)  # spread the connections over the interval
    next_at = time.perf_counter()
    while next_at < until and contractor.dropped is None:
        first = contractor.sent_seq + 1
        events = typing_events(first, per_batch, 1_700_000_000_000, rng)
        frame = encode_frame(Batch(session=contractor.session, events=tuple(events)))
        contractor.sent_at[events[-1].seq] = time.perf_counter()
        contractor.sent_seq = events[-1].seq
        try:
            await ws.send(frame)
        except ConnectionClosed as closed:
            contractor.dropped = str(closed)
            return
        next_at += interval_s
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))


async def run(args: argparse.Namespace, collector: RunningCollector, tokens: list[str]) -> None:
    contractors = [Contractor(token) for token in tokens]
    idle_rss = rss_kib(collector.pid)
    connections: list[ClientConnection] = []
    opening = time.perf_counter()
    for start in range(0, len(contractors), 50):  # a ramp, as contractors do not all start at once
        chunk = contractors[start : start + 50]
        connections += await asyncio.gather(*(open_connection(collector.url, c) for c in chunk))
    print(f"opened {len(connections)} connections in {time.perf_counter() - opening:.1f} s")
    connected_rss = rss_kib(collector.pid)
    pairs = list(zip(connections, contractors, strict=True))
    readers = [asyncio.create_task(read_acks(ws, c)) for ws, c in pairs]
    interval_s = args.batch_interval_ms / 1000
    per_batch = max(1, round(args.events_per_second * interval_s))
    cpu_before = cpu_seconds(collector.pid)
    started = time.perf_counter()
    until = started + args.seconds
    peak_rss = connected_rss

    lags_ms: list[float] = []

    async def watch_memory() -> None:
        nonlocal peak_rss
        while time.perf_counter() < until:
            peak_rss = max(peak_rss, rss_kib(collector.pid))
            asked = time.perf_counter()
            await asyncio.sleep(0.5)
            lags_ms.append((time.perf_counter() - asked - 0.5) * 1000)

    await asyncio.gather(
        watch_memory(),
        *(send_for(ws, c, per_batch, interval_s, until) for ws, c in pairs),
    )
    sending_s = time.perf_counter() - started
    collector_cpu = cpu_seconds(collector.pid) - cpu_before
    for _ in range(600):  # up to 120 s for the last acks
        if all(c.acked_seq >= c.sent_seq or c.dropped for c in contractors):
            break
        await asyncio.sleep(0.2)
    unacked = sum(c.sent_seq - c.acked_seq for c in contractors if not c.dropped)
    if unacked:
        print(f"gave up waiting for the last {unacked:,} acks after 120 s")
    for ws in connections:
        await ws.close()
    await asyncio.gather(*readers, return_exceptions=True)

    sent = sum(c.sent_seq for c in contractors)
    acked = sum(c.acked_seq for c in contractors)
    latencies = sorted(ms for c in contractors for ms in c.latencies_ms)
    stored = dict(collector.query("SELECT session, count(*) FROM events GROUP BY session"))
    max_seq = dict(collector.query("SELECT session, max(seq) FROM events GROUP BY session"))
    lost = sum(
        1
        for c in contractors
        if stored.get(c.session, 0) < c.acked_seq  # acked but missing
    )
    duplicated = sum(
        1 for c in contractors if stored.get(c.session, 0) != max_seq.get(c.session, 0)
    )
    n = len(contractors)
    print(machine_note())
    print(
        f"connections: {n}, {args.events_per_second} events/s each in batches of {per_batch} "
        f"every {args.batch_interval_ms} ms, for {sending_s:.0f} s"
        + (" (collector --no-fsync)" if args.no_fsync else "")
    )
    print(f"events sent: {sent:,}, acknowledged: {acked:,}, stored: {sum(stored.values()):,}")
    acks_per_s = len(latencies) / sending_s
    print(f"throughput: {acked / sending_s:,.0f} events/s, {acks_per_s:,.0f} acks/s")
    if latencies:
        p50 = statistics.median(latencies)
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print(
            f"send->ack: p50 {p50:.1f} ms, p99 {p99:.1f} ms (target <= 250), "
            f"max {latencies[-1]:.1f} ms"
        )
    print(
        f"collector RSS: idle {idle_rss:,} KiB, {n} connected {connected_rss:,} KiB, "
        f"peak under load {peak_rss:,} KiB"
    )
    print(
        f"memory per connection: {(connected_rss - idle_rss) / n:.1f} KiB connected, "
        f"{(peak_rss - idle_rss) / n:.1f} KiB at peak under load (target <= 64)"
    )
    print(f"collector CPU while sending: {collector_cpu / sending_s * 100:.0f}% of one core")
    lags_ms.sort()
    print(
        f"this client's own event-loop lag (part of every latency above): "
        f"median {lags_ms[len(lags_ms) // 2]:.0f} ms, max {lags_ms[-1]:.0f} ms"
    )
    refused = sum(c.refused for c in contractors)
    dropped = [c.dropped for c in contractors if c.dropped]
    if dropped:
        print(f"connections dropped: {len(dropped)} (first: {dropped[0]})")
    print(
        f"refused batches: {refused}; sessions with acked events missing: {lost}; "
        f"sessions with gaps or duplicates: {duplicated}"
    )
    if lost or duplicated or acked != sent or dropped:
        print("FAILED: not every sent event was acknowledged and stored exactly once")
        sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--events-per-second", type=float, default=10)
    parser.add_argument("--batch-interval-ms", type=int, default=500)
    parser.add_argument(
        "--no-fsync",
        action="store_true",
        help="run the collector with --no-fsync, to tell the disk's fsync from the collector",
    )
    args = parser.parse_args()
    limit = raise_fd_limit(args.connections * 2 + 256)
    if limit < args.connections + 64:
        sys.exit(f"open-file limit {limit} is too low for {args.connections} connections")
    with tempfile.TemporaryDirectory(prefix="edittrace-bench-") as tmp:
        db_path = Path(tmp) / "collector.sqlite"
        db = open_database(db_path)
        tokens = [create_token(db, f"contractor-{i:04d}") for i in range(args.connections)]
        db.close()
        collector = RunningCollector(db_path, ["--no-fsync"] if args.no_fsync else [])
        collector.start()
        try:
            asyncio.run(run(args, collector, tokens))
        finally:
            try:  # SIGTERM: the collector commits what it holds and logs its writer's figures
                collector.terminate(timeout_s=300)
            except subprocess.TimeoutExpired:
                collector.kill()
            writer = [line for line in collector.output if "writer:" in line]
            print("collector " + (writer[-1].split("writer:", 1)[1].strip() if writer else "-"))


if __name__ == "__main__":
    main()
