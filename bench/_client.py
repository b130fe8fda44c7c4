"""Shared by the collector benchmarks: realistic events, process figures, an fd limit."""

from __future__ import annotations

import os
import random
import resource
from pathlib import Path

from edittrace.protocol import Event

WORDS = ("value", "result", "index", "name", "count", "items", "total", "self", "return", "if")


def typing_events(first_seq: int, count: int, ts0: int, rng: random.Random) -> list[Event]:
    """``doc.change`` events as typing produces them: mostly one character, some pastes."""
    events = []
    for offset in range(count):
        seq = first_seq + offset
        line, character = seq // 60, seq % 60
        text = rng.choice(WORDS) * 20 if rng.random() < 0.05 else rng.choice("abcdefgh ()=:")
        position = {"line": line, "character": character}
        events.append(
            Event(
                seq=seq,
                type="doc.change",
                ts=ts0 + seq * 90,
                data={
                    "uri": "file:///home/contractor/project/src/module.py",
                    "version": seq + 1,
                    "changes": [{"range": {"start": position, "end": position}, "text": text}],
                },
            )
        )
    return events


def raise_fd_limit(wanted: int) -> int:
    """Raise this process's open-file limit toward ``wanted`` (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` in KiB (VmRSS in /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def machine_note() -> str:
    cores = os.cpu_count() or 0
    return (
        f"machine: {cores} cores; the benchmark client runs on the same machine and competes "
        "with the collector for them, so figures are a lower bound"
    )
