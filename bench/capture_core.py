"""Cost of the capture core on the typing path: 100,000 edits on a 2,000-line file.

    .venv/bin/python -m bench.capture_core [EDITS]

Prints, per edit: the Recorder's ``change_document`` (mirror, inference, ``doc.change``
event), the mirror alone, and two baselines measured in the same run: splicing the whole
document as one string (what a mirror without a line index costs) and ``sum(range(1000))``
(how fast this machine is right now). Also the memory the Recorder keeps after the run.
"""

from __future__ import annotations

import random
import sys
import time
import tracemalloc
from collections.abc import Callable

from edittrace.capture import CaptureSettings, DocumentMirror, OfferedCandidate, Recorder, Scope

ROOT = "file:///home/contractor/project"
URI = f"{ROOT}/src/module.py"
TEXT = "".join(
    f"    value_{i} = compute(value_{i - 1}, 'x' * {i})  # line {i}\n" for i in range(2000)
)


def typing(count: int) -> list[dict[str, object]]:
    """Keystrokes in bursts of 40 at random places; one in ten is a backspace."""
    rng = random.Random(1)
    changes: list[dict[str, object]] = []
    line = column = 0
    for n in range(count):
        if n % 40 == 0:
            line, column = rng.randrange(2000), rng.randrange(4, 20)
        if n % 10 == 9:
            start, text, column = column - 1, "", column - 1
        else:
            start, text, column = column, rng.choice("abc ()=:"), column + 1
        end = start if text else start + 1
        changes.append(
            {
                "range": {
                    "start": {"line": line, "character": start},
                    "end": {"line": line, "character": end},
                },
                "text": text,
            }
        )
    return changes


def per_edit(count: int, work: Callable[[], None]) -> float:
    began = time.perf_counter()
    work()
    return (time.perf_counter() - began) / count * 1e6


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    changes = typing(count)

    mirror = DocumentMirror(TEXT, version=1)

    def mirror_only() -> None:
        for change in changes:
            mirror.apply(change)

    whole = [TEXT]

    def whole_string() -> None:
        for change in changes[: count // 10]:
            text = whole[0]
            offset = len(text) // 2
            whole[0] = text[:offset] + str(change["text"]) + text[offset:]

    def fresh_recorder() -> Recorder:
        recorder = Recorder(
            "3f2b8c1e-5d4a-4b6f-9a7e-2c1d0e9f8a7b", CaptureSettings(), Scope([ROOT], [], [])
        )
        recorder.start(
            0,
            client="bench",
            client_version="0",
            position_encoding="utf-16",
            editor=None,
            editor_version=None,
            workspace_folders=[ROOT],
            settings={},
        )
        recorder.open_document(0, URI, "python", 1, TEXT)
        recorder.events_to_send()
        return recorder

    def record(recorder: Recorder) -> None:
        for n, change in enumerate(changes):
            now = n * 90
            recorder.change_document(now, URI, n + 2, [change])
            if n % 10 == 0:  # an offer every tenth keystroke, as a debounced editor asks
                position = change["range"]["end"]  # type: ignore[index]
                recorder.offer(
                    now,
                    suggestion=f"s{n}",
                    uri=URI,
                    version=n + 2,
                    position=position,
                    trigger="automatic",
                    latency_ms=1.0,
                    candidates=[
                        OfferedCandidate("abc(1)", {"start": position, "end": position}, "b")
                    ],
                    shown_order=[0],
                )
            deadline = recorder.next_deadline()
            if deadline is not None and deadline <= now:
                recorder.tick(now)
            if n % 100 == 0:
                recorder.events_to_send()
        recorder.events_to_send()

    def machine_reference() -> None:
        for _ in range(2_000):
            sum(range(1000))

    machine = per_edit(2_000, machine_reference)
    naive = per_edit(count // 10, whole_string)
    mirrored = per_edit(count, mirror_only)
    timed = fresh_recorder()
    recorded = per_edit(count, lambda: record(timed))
    measured = fresh_recorder()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    record(measured)
    kept = (tracemalloc.get_traced_memory()[0] - before) / 1e6
    tracemalloc.stop()
    print(f"{count:,} edits on a 2,000-line file ({len(TEXT):,} characters)")
    print(f"  machine reference, sum(range(1000)):  {machine:8.1f} us")
    print(f"  baseline, splice the whole string:     {naive:8.1f} us per edit")
    print(f"  DocumentMirror.apply:                  {mirrored:8.1f} us per edit")
    print(f"  Recorder.change_document (+ offers):   {recorded:8.1f} us per edit")
    print(f"  ratio Recorder / machine reference:    {recorded / machine:8.2f}")
    print(f"  memory kept by the Recorder:           {kept:8.1f} MB")


if __name__ == "__main__":
    main()
