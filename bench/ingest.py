"""End-to-end ingest: acknowledged events per second through a real collector, vs raw SQLite.

    .venv/bin/python -m bench.ingest [--events 200000] [--batch 500] [--connections 4]

Starts ``edittrace collector serve`` as a subprocess (rate limit off), sends ``--events``
typing events over ``--connections`` websockets in batches of ``--batch`` (several in flight
per connection, as the uploader does), and counts events per second from the first send to
the last ack (acks come only after the commit). The baseline, measured in the same run on the
same disk: the stdlib's ``sqlite3.executemany`` inserting the very same rows into a file with
the same schema and settings (WAL, synchronous=FULL), one commit per batch of the same size.
Target: ratio >= 0.8. The frames are encoded before the clock starts (that is the client's
work, not the collector's).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from websockets.asyncio.client import ClientConnection, connect

from bench._client import cpu_seconds, machine_note, typing_events
from edittrace.collector.storage import open_database
from edittrace.protocol import Ack, Batch, Event, Hello, decode_frame, encode_frame
from edittrace.protocol.frames import canonical_json
from tests.support.collector import RunningCollector, bearer

TS0 = 1_700_000_000_000


def make_workload(events: int, batch: int, connections: int) -> list[list[tuple[str, list[Event]]]]:
    """Per connection, its batches: (session, events). One session per connection."""
    rng = random.Random(1)
    per_connection = events // connections
    work = []
    for _ in range(connections):
        session = str(uuid.uuid4())
        stream = typing_events(1, per_connection, TS0, rng)
        work.append([(session, stream[i : i + batch]) for i in range(0, len(stream), batch)])
    return work


def raw_rate(
    path: Path, work: list[list[tuple[str, list[Event]]]], fsync: bool
) -> tuple[float, float]:
    """The same rows through ``executemany``, one commit per batch: rows per second, and
    CPU seconds spent (to compare costs when other processes share the cores)."""
    db = open_database(path, fsync=fsync)
    conn = db.conn
    batches = [
        [(session, e.seq, e.type, e.ts, canonical_json(e.data), "bench", TS0) for e in events]
        for connection in work
        for session, events in connection
    ]
    total = sum(len(rows) for rows in batches)
    start, cpu = time.perf_counter(), time.process_time()
    for rows in batches:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO events (session, seq, type, ts, data, contractor, received) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.execute("COMMIT")
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    db.close()
    return total / elapsed, cpu


async def send_all(
    url: str, token: str, work: list[list[tuple[str, list[Event]]]], window: int
) -> float:
    """Send every batch, wait for every ack; seconds from the first send to the last ack."""
    clients = []
    for batches in work:
        ws = await connect(url, additional_headers=bearer(token), compression=None, max_size=None)
        session = batches[0][0]
        hello = Hello(sessions=(session,), client_name="bench", client_version="1")
        await ws.send(encode_frame(hello))
        decode_frame(await ws.recv())
        frames = [encode_frame(Batch(session=s, events=tuple(events))) for s, events in batches]
        clients.append((ws, frames, batches[-1][1][-1].seq))

    async def run_one(ws: ClientConnection, frames: list[bytes], last_seq: int) -> None:
        slots = asyncio.Semaphore(window)

        async def read_acks() -> None:
            while True:
                frame = decode_frame(await ws.recv())
                if not isinstance(frame, Ack):
                    raise RuntimeError(f"collector refused a batch: {frame}")
                slots.release()
                if frame.acked == last_seq:
                    return

        reader = asyncio.create_task(read_acks())
        for frame in frames:
            await slots.acquire()
            await ws.send(frame)
        await reader
        await ws.close()

    start = time.perf_counter()
    await asyncio.gather(*(run_one(ws, frames, last) for ws, frames, last in clients))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--window", type=int, default=8, help="batches in flight per connection")
    parser.add_argument(
        "--no-fsync",
        action="store_true",
        help="collector --no-fsync and the raw baseline with synchronous=NORMAL too",
    )
    args = parser.parse_args()
    work = make_workload(args.events, args.batch, args.connections)
    total = sum(len(events) for batches in work for _, events in batches)
    with tempfile.TemporaryDirectory(prefix="edittrace-bench-") as tmp:
        raw, raw_cpu = raw_rate(Path(tmp) / "raw.sqlite", work, fsync=not args.no_fsync)
        flags = ["--rate", "0", *(["--no-fsync"] if args.no_fsync else [])]
        collector = RunningCollector(Path(tmp) / "collector.sqlite", flags)
        collector.start()
        try:
            token = collector.token("bench")
            cpu_before = cpu_seconds(collector.pid)
            elapsed = asyncio.run(send_all(collector.url, token, work, args.window))
            collector_cpu = cpu_seconds(collector.pid) - cpu_before
            stored = collector.query("SELECT count(*) FROM events")[0][0]
        finally:
            try:  # SIGTERM: the collector commits what it holds and logs its writer's figures
                collector.terminate(timeout_s=300)
            except subprocess.TimeoutExpired:
                collector.kill()
    writer = [line for line in collector.output if "writer:" in line]
    end_to_end = total / elapsed
    print(machine_note())
    print(f"events: {total}, batch: {args.batch}, connections: {args.connections}, "
          f"in flight per connection: {args.window}, fsync: {not args.no_fsync}")  # fmt: skip
    print(f"raw sqlite3 executemany, one commit per batch: {raw:,.0f} rows/s")
    print(f"collector end to end, acknowledged:           {end_to_end:,.0f} events/s "
          f"({elapsed:.2f} s; collector CPU {collector_cpu:.2f} s)")  # fmt: skip
    print(f"ratio collector / raw: {end_to_end / raw:.2f} (target >= 0.80)")
    print(
        f"CPU per event: collector {collector_cpu / total * 1e6:.1f} us (decode, validate, "
        f"JSON, insert, websockets), raw executemany {raw_cpu / total * 1e6:.1f} us; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print("collector " + (writer[-1].split("writer:", 1)[1].strip() if writer else "-"))
    print(f"stored rows: {stored} of {total} sent" + ("" if stored == total else "  LOST ROWS"))
    if stored != total:
        sys.exit(1)


if __name__ == "__main__":
    main()
