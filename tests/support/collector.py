"""The ``collector`` fixture: a real ``edittrace collector serve`` process on loopback.

Tests talk to it with a real websockets client and read its real SQLite file::

    async def test_x(collector: RunningCollector) -> None:
        token = collector.token("ann")
        async with connect(collector.url, additional_headers=bearer(token)) as ws: ...
        assert collector.events()[0]["type"] == "session.start"
"""

from __future__ import annotations

import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import pytest

_SCRIPT = Path(sys.executable).parent / "edittrace"
# The installed console script, as a user runs it; ``-m`` when the venv has no script.
EDITTRACE = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "edittrace.cli"]
START_TIMEOUT_S = 30.0


def bearer(token: str) -> dict[str, str]:
    """Handshake headers carrying ``token``."""
    return {"Authorization": f"Bearer {token}"}


class RunningCollector:
    """One collector subprocess and its database; ``.kill()`` and ``.restart()`` keep the port."""

    def __init__(self, db_path: Path, extra_args: Sequence[str] = ()) -> None:
        self.db_path = db_path
        self.extra_args = list(extra_args)
        self.port = 0
        self.scheme = "ws"
        self.process: subprocess.Popen[str] | None = None
        self.output: list[str] = []
        self._pump_thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/v1/stream"

    @property
    def http_url(self) -> str:
        return f"{'https' if self.scheme == 'wss' else 'http'}://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        """Start ``edittrace collector serve`` and wait until it listens (port 0 the first time)."""
        command = [
            *EDITTRACE, "collector", "serve", "--db", str(self.db_path),
            "--host", "127.0.0.1", "--port", str(self.port), *self.extra_args,
        ]  # fmt: skip
        lines: queue.Queue[str | None] = queue.Queue()  # this process's lines only
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.process.stdout is not None
        self._pump_thread = threading.Thread(
            target=self._pump, args=(self.process.stdout, lines), daemon=True
        )
        self._pump_thread.start()
        while True:
            try:
                line = lines.get(timeout=START_TIMEOUT_S)
            except queue.Empty:
                self.kill()
                raise RuntimeError("collector did not start:\n" + "".join(self.output)) from None
            if line is None:
                raise RuntimeError("collector exited at start:\n" + "".join(self.output))
            if line.startswith("edittrace collector listening on "):
                url = line.split()[-1]
                self.scheme = url.split(":", 1)[0]
                self.port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
                return

    def _pump(self, stream: IO[str], lines: queue.Queue[str | None]) -> None:
        # Read the collector's output for as long as it runs, so its pipe never fills up.
        for line in stream:
            self.output.append(line)
            lines.put(line)
        lines.put(None)

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def terminate(self, timeout_s: float = 30) -> int:
        """SIGTERM and wait; returns the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout_s)
        if self._pump_thread is not None:  # so that .output holds its last lines
            self._pump_thread.join(10)
        return code

    def restart(self) -> None:
        """Kill (if running) and start again on the same port and database."""
        self.kill()
        self.start()

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``edittrace collector ARGS --db THIS_DB`` and return its result."""
        result = subprocess.run(
            [*EDITTRACE, "collector", *args, "--db", str(self.db_path)],
            capture_output=True,
            text=True,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"edittrace collector {' '.join(args)} failed: {result.stderr}")
        return result

    def token(self, name: str, researcher: bool = False) -> str:
        """Create a token through the CLI and return it."""
        flags = ["--researcher"] if researcher else []
        return self.cli("token", "create", name, *flags).stdout.strip()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows from the database file, read by a separate connection as any reader would."""
        conn = sqlite3.connect(self.db_path)
        try:
            return conn.execute(sql, tuple(params)).fetchall()
        finally:
            conn.close()

    def events(self, session: str | None = None) -> list[dict[str, Any]]:
        """Rows of ``events`` in (session, seq) order, ``data`` parsed."""
        where, params = ("WHERE session = ?", [session]) if session else ("", [])
        rows = self.query(
            "SELECT session, seq, type, ts, data, contractor, received FROM events "
            f"{where} ORDER BY session, seq",
            params,
        )
        names = ("session", "seq", "type", "ts", "data", "contractor", "received")
        found = [dict(zip(names, row, strict=True)) for row in rows]
        for row in found:
            row["data"] = json.loads(row["data"])
        return found


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[RunningCollector]:
    """A running collector on 127.0.0.1 with a fresh SQLite file in ``tmp_path``."""
    running = RunningCollector(tmp_path / "collector.sqlite")
    running.start()
    try:
        yield running
    finally:
        running.kill()
