"""How long seeking takes in a long session (the target: well under 100 ms per seek).

    .venv/bin/python -m bench.replay_seek [--events 100000] [--seeks 200]

Builds a session of about ``--events`` events (three documents typed char by char,
suggestions offered, shown, accepted or rejected, pastes, snapshots every 200 changes
of a document as the capture core sends them), stores it in a real collector database
through ``Store.store_batch``, then times random seeks. The baseline is what a seek
would cost without snapshots: replaying from the first event.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from edittrace.collector.replay import Replay
from tests.support.sessions import SessionBuilder

URIS = ("file:///w/main.py", "file:///w/util.py", "file:///w/README.md")
WORDS = ("value", "result", "index", "name", "count", "items", "total", "self", "return", "if")


def build(events: int, seed: int = 7) -> SessionBuilder:
    rng = random.Random(seed)
    b = SessionBuilder("bench", snapshot_every=200, step_ms=90)
    for uri in URIS:
        b.open(uri, "# start\n", "python")
    while len(b.events) < events:
        uri = rng.choice(URIS)
        b.move(uri, len(b.text(uri)))
        roll = rng.random()
        if roll < 0.15:
            suggestion = b.offer(uri, [f"{rng.choice(WORDS)}({rng.choice(WORDS)})\n"])
            b.show(suggestion)
            if rng.random() < 0.3:
                b.accept(suggestion)
            else:
                b.reject(suggestion)
        elif roll < 0.18:
            b.paste(uri, f"{rng.choice(WORDS)} = {rng.choice(WORDS)}\n")
        elif roll < 0.22 and len(b.text(uri)) > 20:
            b.backspace(uri, 3)
        else:
            b.type(uri, f"{rng.choice(WORDS)} ")
            if rng.random() < 0.2:
                b.type(uri, "\n")
        b.spans.clear()  # no persistence checkpoints here; keeps the builder linear
    b.end()
    return b


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def summary(label: str, figures: list[float]) -> None:
    figures = sorted(figures)
    p95 = figures[int(len(figures) * 0.95) - 1] if len(figures) >= 20 else figures[-1]
    print(
        f"{label:<44} median {statistics.median(figures):8.2f} ms   p95 {p95:8.2f} ms   "
        f"max {figures[-1]:8.2f} ms   (n={len(figures)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seeks", type=int, default=200)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.db"
        started = time.perf_counter()
        builder = build(options.events)
        builder.store(db, batch_size=1000)
        last = len(builder.events)
        sizes = ", ".join(f"{len(builder.text(uri))}" for uri in URIS)
        print(
            f"session: {last} events, documents of {sizes} characters "
            f"(built and stored in {time.perf_counter() - started:.1f} s)"
        )
        rng = random.Random(11)
        targets = [rng.randint(1, last) for _ in range(options.seeks)]

        replay = Replay.open(db)
        session = replay.session("bench")
        print(
            f"{'first text-only seek (builds the seq index)':<44} "
            f"{timed(lambda: session.state_at(seq=last // 2, provenance=False)):8.2f} ms"
        )
        summary(
            "text-only seek, random seq",
            [timed(partial(session.state_at, seq=t, provenance=False)) for t in targets],
        )
        early = min(1000, last)
        print(
            f"{f'first provenance seek, to seq {early}':<44} "
            f"{timed(lambda: session.state_at(seq=early)):8.2f} ms   (the pass goes that far)"
        )
        print(
            f"{'then a provenance seek to the last seq':<44} "
            f"{timed(lambda: session.state_at(seq=last)):8.2f} ms   (the pass completes)"
        )
        summary(
            "seek with provenance, random seq",
            [timed(partial(session.state_at, seq=t)) for t in targets],
        )
        ts_targets = [builder.events[t - 1].ts for t in targets[:50]]
        summary(
            "seek by time with provenance",
            [timed(partial(session.state_at, ts=ts)) for ts in ts_targets],
        )
        baseline = [timed(lambda: session.verify()) for _ in range(2)]
        summary("baseline: replay from the first event", baseline)
        ratio = statistics.median(baseline) / statistics.median(
            [timed(partial(session.state_at, seq=t)) for t in targets[:50]]
        )
        print(f"seek with provenance is {ratio:.0f}x faster than replaying from the start")
        replay.close()


if __name__ == "__main__":
    main()
