"""How long ``edittrace report`` and every export take on a long session.

    .venv/bin/python -m bench.report_export [--events 100000]

Builds the same kind of session as bench.replay_seek (three documents typed char by char,
suggestions offered, shown, accepted or rejected, snapshots), stores it through
``Store.store_batch``, then times the report and each export format. The baseline is
reading and parsing the events alone (``read_events``), which every one of them does first.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from bench.replay_seek import build
from edittrace.collector.event_reader import EventFilter, read_events
from edittrace.collector.exports import FORMATS, run_export
from edittrace.collector.metrics import build_table
from edittrace.collector.report import build_report, render
from edittrace.collector.storage import open_database


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "bench.sqlite"
        session = build(arguments.events)
        session.store(path, contractor="bench", batch_size=1000)
        events = len(session.events)
        db = open_database(path)
        everything = EventFilter()
        baseline = timed(lambda: sum(1 for _ in read_events(db, everything)))
        print(
            f"{events} events; baseline read_events: {baseline:.2f} s ({events / baseline:,.0f}/s)"
        )
        figures = {
            "report (table, by model)": timed(
                lambda: render(
                    build_report(build_table(read_events(db, everything)), "model"), "table"
                )
            )
        }
        for output_format in FORMATS:
            suffix = "" if output_format in ("progsnap2", "parquet") else ".jsonl"
            out = Path(directory) / f"out-{output_format}{suffix}"
            figures[f"export {output_format}"] = timed(
                partial(run_export, db, output_format, everything, out)
            )
        for name, seconds in figures.items():
            print(
                f"{name:28s} {seconds:6.2f} s  {events / seconds:9,.0f} events/s  "
                f"{seconds / baseline:5.1f}x baseline"
            )
        db.close()


if __name__ == "__main__":
    main()
