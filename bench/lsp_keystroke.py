"""Per-keystroke overhead of ``edittrace lsp`` against a bare pygls server.

    .venv/bin/python -m bench.lsp_keystroke [--edits 100000] [--complete-every 10]
                                            [--no-collector]

Replays one long edit session against each server over stdio: real source files of this
repository typed as a person does (one ``didChange`` per key, auto-indent on Enter, a
typo now and then corrected with Backspace), asking for inline completion every few
keys. After every change the client sends a request neither server knows and waits for
its (error) answer, so the time to that answer is the time the change took. Both servers
get the identical session in the same run; the figures:

- CPU time of the server process (all threads, /proc) over the replay, and the ratio
  edittrace / bare (target at most 1.3);
- added latency of a didChange: p50/p99 of edittrace minus the same percentile of the
  bare server (target p99 under 1 ms);
- inlineCompletion with the builtin provider: p50/p99 and the same minus the bare
  server's answer to the same request (method not found) (target p99 under 20 ms);
- resident memory growth from after the first 2 % of edits to the end (target at most
  20 MB over 100,000 edits).

By default edittrace uploads to a real collector on loopback (``edittrace collector
serve``), as in use; ``--no-collector`` keeps everything in the outbox.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parent.parent
SOURCES = ("protocol", "capture", "server", "collector", "cli", "tests", "bench")
EDITTRACE = Path(sys.executable).parent / "edittrace"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- the session ----------------------------------------------------------------------------


@dataclass
class Edit:
    line: int
    character: int  # UTF-16, as LSP counts by default
    end_line: int
    end_character: int
    text: str
    complete: bool = False


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def typing_session(edits: int, complete_every: int, seed: int = 1) -> Iterator[tuple[str, Edit]]:
    """(file name, edit) pairs: files of the repository typed key by key until ``edits``."""
    rng = random.Random(seed)
    files = sorted(
        path
        for folder in SOURCES
        for path in (ROOT / folder).rglob("*.py")
        if path.stat().st_size > 2_000
    )
    count = 0
    for number, path in enumerate(files * 20):
        name = f"typed_{number}_{path.name}"
        lines = [""]
        for source_line in path.read_text().split("\n"):
            indent = source_line[: len(source_line) - len(source_line.lstrip(" "))]
            body = source_line[len(indent) :]
            row = len(lines) - 1
            if row > 0 or lines[0]:
                # Enter, with the editor's auto-indent: one change.
                column = utf16(lines[row])
                lines.append(indent)
                yield name, Edit(row, column, row, column, "\n" + indent)
                row += 1
                count += 1
            else:
                lines[row] = indent
                if indent:
                    yield name, Edit(0, 0, 0, 0, indent)
                    count += 1
            for character in body:
                if rng.random() < 0.03:  # a typo, then Backspace
                    column = utf16(lines[row])
                    yield name, Edit(row, column, row, column, rng.choice("qxzjk"))
                    yield name, Edit(row, column, row, column + 1, "")
                    count += 2
                column = utf16(lines[row])
                lines[row] += character
                count += 1
                yield (
                    name,
                    Edit(row, column, row, column, character, complete=count % complete_every == 0),
                )
                if count >= edits:
                    return


# --- a minimal, fast LSP client ---------------------------------------------------------------


class Client:
    def __init__(self, command: list[str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            cwd=cwd,
        )  # fmt: skip
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin = self.process.stdin
        self.stdout = self.process.stdout
        self.next_id = 0

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.stdin.flush()

    def notify(self, method: str, params: Any) -> None:
        self.send({"method": method, "params": params})

    def request(self, method: str, params: Any) -> Any:
        self.next_id += 1
        wanted = self.next_id
        self.send({"id": wanted, "method": method, "params": params})
        while True:
            message = self.read()
            if message.get("id") == wanted and "method" not in message:
                return message
            if "id" in message and "method" in message:  # a request from the server
                self.send({"id": message["id"], "result": None})

    def read(self) -> dict[str, Any]:
        length = 0
        while True:
            header = self.stdout.readline()
            if not header:
                raise RuntimeError("server closed its output")
            if header.startswith(b"Content-Length:"):
                length = int(header.split(b":")[1])
            elif header == b"\r\n":
                break
        message: dict[str, Any] = json.loads(self.stdout.read(length))
        return message

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.process.wait(30)
        except (RuntimeError, OSError, subprocess.TimeoutExpired):
            self.process.kill()


# --- one run ----------------------------------------------------------------------------------


@dataclass
class Run:
    name: str
    change_ms: list[float] = field(default_factory=list)
    complete_ms: list[float] = field(default_factory=list)
    ghost_texts: int = 0
    cpu_s: float = 0.0
    rss_start_mb: float = 0.0
    rss_end_mb: float = 0.0
    wall_s: float = 0.0


def replay(name: str, command: list[str], workspace: Path, options: dict[str, Any],
           edits: int, complete_every: int) -> Run:  # fmt: skip
    client = Client(command, workspace)
    run = Run(name)
    client.request(
        "initialize",
        {
            "processId": os.getpid(),
            "rootUri": workspace.as_uri(),
            "workspaceFolders": [{"uri": workspace.as_uri(), "name": "ws"}],
            "capabilities": {"textDocument": {"inlineCompletion": {}}},
            "clientInfo": {"name": "bench", "version": "1"},
            "initializationOptions": options,
        },
    )
    client.notify("initialized", {})
    wait_for_model(client, workspace)
    versions: dict[str, int] = {}
    warm_up = max(1, edits // 50)
    started = time.perf_counter()
    cpu_start = client.cpu_s()
    run.rss_start_mb = client.rss_mb()
    for done, (file_name, edit) in enumerate(typing_session(edits, complete_every)):
        uri = (workspace / file_name).as_uri()
        if uri not in versions:
            versions[uri] = 1
            client.notify(
                "textDocument/didOpen",
                {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": ""}},
            )
        versions[uri] += 1
        t0 = time.perf_counter_ns()
        client.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": versions[uri]},
                "contentChanges": [
                    {
                        "range": {
                            "start": {"line": edit.line, "character": edit.character},
                            "end": {"line": edit.end_line, "character": edit.end_character},
                        },
                        "text": edit.text,
                    }
                ],
            },
        )
        client.request("bench/ping", None)
        run.change_ms.append((time.perf_counter_ns() - t0) / 1e6)
        if edit.complete:
            column = edit.character + utf16(edit.text)
            t0 = time.perf_counter_ns()
            answer = client.request(
                "textDocument/inlineCompletion",
                {
                    "textDocument": {"uri": uri},
                    "position": {"line": edit.line, "character": column},
                    "context": {"triggerKind": 2},
                },
            )
            run.complete_ms.append((time.perf_counter_ns() - t0) / 1e6)
            result = answer.get("result") or {}
            run.ghost_texts += bool(result.get("items") if isinstance(result, dict) else result)
        if done + 1 == warm_up:
            run.rss_start_mb = client.rss_mb()
    run.wall_s = time.perf_counter() - started
    run.cpu_s = client.cpu_s() - cpu_start
    run.rss_end_mb = client.rss_mb()
    client.stop()
    return run


def wait_for_model(client: Client, workspace: Path, timeout_s: float = 60.0) -> None:
    """Until edittrace has read the workspace for its model (the bare server just answers)."""
    uri = (workspace / "probe.py").as_uri()
    text = "from __future__ "
    client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}},
    )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        answer = client.request(
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": uri},
                "position": {"line": 0, "character": len(text)},
                "context": {"triggerKind": 2},
            },
        )
        if "error" in answer or (answer.get("result") or {}).get("items"):
            break
        time.sleep(0.1)
    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    client.request("bench/ping", None)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def start_collector(directory: Path) -> tuple[subprocess.Popen[str], str, str]:
    db = directory / "collector.sqlite"
    token = subprocess.run(
        [str(EDITTRACE), "collector", "token", "create", "bench", "--db", str(db)],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    process = subprocess.Popen(
        [str(EDITTRACE), "collector", "serve", "--db", str(db), "--host", "127.0.0.1",
         "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("edittrace collector listening on "):
            return process, line.split()[-1], token
    raise RuntimeError("the collector did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--edits", type=int, default=100_000)
    parser.add_argument("--complete-every", type=int, default=10)
    parser.add_argument("--no-collector", action="store_true")
    parser.add_argument(
        "--hold-back",
        type=float,
        default=None,
        help="outbox.holdBackSeconds for edittrace (default: the setting's default); a value "
        "longer than the run leaves masking and upload out of the measurement",
    )
    parser.add_argument(
        "--settings",
        default="{}",
        help='more edittrace settings as JSON, e.g. \'{"capture": {"enabled": false}}\' to '
        "see the cost of serving suggestions alone",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="edittrace-bench-") as temporary:
        directory = Path(temporary)
        workspace = directory / "ws"
        workspace.mkdir()
        for folder in ("protocol", "capture"):  # a small repository for the model to read
            shutil.copytree(ROOT / folder, workspace / folder)
        outbox: dict[str, Any] = {"path": str(directory / "outbox.sqlite3")}
        if args.hold_back is not None:
            outbox["holdBackSeconds"] = args.hold_back
        options: dict[str, Any] = {"edittrace": {**json.loads(args.settings), "outbox": outbox}}
        collector = None
        if not args.no_collector:
            collector, url, token = start_collector(directory)
            options["edittrace"]["collector"] = {"url": url, "token": token}
        try:
            bare = replay(
                "bare pygls", [sys.executable, str(ROOT / "bench" / "bare_server.py")],
                workspace, {}, args.edits, args.complete_every,
            )  # fmt: skip
            traced = replay(
                "edittrace lsp", [str(EDITTRACE), "lsp"],
                workspace, options, args.edits, args.complete_every,
            )  # fmt: skip
        finally:
            if collector is not None:
                collector.kill()
                collector.wait()
    report(bare, traced, args.edits)


def report(bare: Run, traced: Run, edits: int) -> None:
    print(f"edits replayed: {edits:,} (inline completion asked {len(traced.complete_ms):,} times)")
    print(f"{'':22}{'bare pygls':>14}{'edittrace lsp':>16}")
    print(f"{'wall time (s)':22}{bare.wall_s:14.1f}{traced.wall_s:16.1f}")
    print(f"{'server CPU (s)':22}{bare.cpu_s:14.2f}{traced.cpu_s:16.2f}")
    for label, q in (("didChange p50 (ms)", 0.5), ("didChange p99 (ms)", 0.99)):
        print(f"{label:22}{percentile(bare.change_ms, q):14.3f}"
              f"{percentile(traced.change_ms, q):16.3f}")  # fmt: skip
    for label, q in (("inline p50 (ms)", 0.5), ("inline p99 (ms)", 0.99)):
        print(f"{label:22}{percentile(bare.complete_ms, q):14.3f}"
              f"{percentile(traced.complete_ms, q):16.3f}")  # fmt: skip
    print(f"{'RSS after warm-up (MB)':22}{bare.rss_start_mb:14.1f}{traced.rss_start_mb:16.1f}")
    print(f"{'RSS at end (MB)':22}{bare.rss_end_mb:14.1f}{traced.rss_end_mb:16.1f}")
    ratio = traced.cpu_s / bare.cpu_s if bare.cpu_s else float("nan")
    added = [percentile(traced.change_ms, q) - percentile(bare.change_ms, q) for q in (0.5, 0.99)]
    inline = [
        percentile(traced.complete_ms, q) - percentile(bare.complete_ms, q) for q in (0.5, 0.99)
    ]
    growth = traced.rss_end_mb - traced.rss_start_mb
    bare_growth = bare.rss_end_mb - bare.rss_start_mb
    print()
    print(f"CPU time ratio edittrace/bare: {ratio:.2f} (target <= 1.3)")
    print(f"didChange added latency: p50 {added[0]:.3f} ms, p99 {added[1]:.3f} ms (target p99 < 1)")
    print(f"inlineCompletion (builtin) added latency: p50 {inline[0]:.3f} ms, "
          f"p99 {inline[1]:.3f} ms (target p99 < 20); ghost text in "
          f"{traced.ghost_texts}/{len(traced.complete_ms)} requests")  # fmt: skip
    print(f"edittrace RSS growth: {growth:+.1f} MB over {edits:,} edits, of which "
          f"{growth - bare_growth:+.1f} MB beyond the bare server's own {bare_growth:+.1f} MB "
          "(target <= 20 MB)")  # fmt: skip


if __name__ == "__main__":
    main()
