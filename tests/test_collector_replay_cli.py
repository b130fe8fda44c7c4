"""``edittrace replay``: --print output byte for byte, and the interactive player under tmux."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.sessions import SessionBuilder, realistic_session

EDITTRACE = str(Path(sys.executable).parent / "edittrace")
APP = "file:///w/app.py"
NOTES = "file:///w/notes.md"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EDITTRACE, "replay", *args], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture
def two_documents(tmp_path: Path) -> tuple[Path, SessionBuilder]:
    b = SessionBuilder("two-docs", snapshot_every=4)
    b.open(APP, "print('hi')\n")
    b.open(NOTES, "# Notes", "markdown")
    b.type(NOTES, "\n- café 😀")
    b.type(APP, "x = 1\n")
    db = tmp_path / "collector.db"
    b.store(db)
    return db, b


def test_print_writes_every_document_after_a_header_line(
    two_documents: tuple[Path, SessionBuilder],
) -> None:
    db, _ = two_documents
    done = run("--db", str(db), "two-docs", "--print")
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "==> file:///w/app.py\nprint('hi')\nx = 1\n==> file:///w/notes.md\n# Notes\n- café 😀\n"
    )
    after_open = run("--db", str(db), "two-docs", "--at", "3", "--print")
    assert after_open.stdout == (
        "==> file:///w/app.py\nprint('hi')\n==> file:///w/notes.md\n# Notes\n"
    )
    assert run("--db", str(db), "two-docs", "--at", "2", "--print").stdout == (
        "==> file:///w/app.py\nprint('hi')\n"
    )


def test_without_a_session_it_lists_them(two_documents: tuple[Path, SessionBuilder]) -> None:
    db, builder = two_documents
    done = run("--db", str(db))
    assert done.returncode == 0
    assert "two-docs" in done.stdout and "alice" in done.stdout
    assert f"{len(builder.events)}" in done.stdout


def test_the_player_without_a_terminal_says_to_use_print(
    two_documents: tuple[Path, SessionBuilder],
) -> None:
    db, _ = two_documents
    done = run("--db", str(db), "two-docs")
    assert done.returncode == 1
    assert "needs a terminal" in done.stderr and "--print" in done.stderr


def test_unknown_session_and_a_forged_snapshot_fail_with_reasons(tmp_path: Path) -> None:
    b = SessionBuilder("forged")
    b.open(APP, "abc")
    b.type(APP, "d")
    b.snapshot(APP, sha256="f" * 64)
    db = tmp_path / "collector.db"
    b.store(db)
    unknown = run("--db", str(db), "nope", "--print")
    assert unknown.returncode == 1 and "no session 'nope'" in unknown.stderr
    forged = run("--db", str(db), "forged", "--print")
    assert forged.returncode == 2
    assert f"seq {b.last_seq}" in forged.stderr and APP in forged.stderr
    assert "f" * 64 in forged.stderr
    verify = run("--db", str(db), "forged", "--verify")
    assert verify.returncode == 1 and f"seq {b.last_seq}" in verify.stderr


class Tmux:
    """A private tmux server (its own socket) running one command in a fixed-size pane."""

    def __init__(self, socket: str) -> None:
        self.socket = socket

    def tmux(self, *args: str) -> str:
        # Some test plugins export LINES/COLUMNS; curses would believe them over the pane.
        env = {k: v for k, v in os.environ.items() if k not in ("LINES", "COLUMNS")}
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=False, env=env
        )
        return done.stdout

    def start(self, command: str) -> None:
        self.tmux("new-session", "-d", "-s", "player", "-x", "100", "-y", "30", command)

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "player", *keys)

    def screen(self, escapes: bool = False) -> str:
        return self.tmux("capture-pane", "-p", *(["-e"] if escapes else []), "-t", "player")

    def wait_for(self, *texts: str, timeout_s: float = 60.0) -> str:
        """The screen once every one of ``texts`` is on it (curses may be mid-redraw before)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            screen = self.screen()
            if all(text in screen for text in texts):
                return screen
            time.sleep(0.05)
        raise AssertionError(f"{texts!r} never all appeared; the screen shows:\n{self.screen()}")

    def alive(self) -> bool:
        return "player" in self.tmux("list-sessions", "-F", "#{session_name}")


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    assert shutil.which("tmux"), "tmux is missing: run scripts/setup.d/20-replay.sh"
    terminal = Tmux(f"edittrace-test-{os.getpid()}")
    yield terminal
    terminal.tmux("kill-server")


def test_the_player_steps_jumps_plays_and_quits(tmp_path: Path, tmux: Tmux) -> None:
    builder = realistic_session()
    db = tmp_path / "collector.db"
    builder.store(db)
    shown = next(e.seq for e in builder.events if e.type == "suggestion.shown")
    tmux.start(f"TERM=xterm-256color {EDITTRACE} replay --db {db} session-1 --at {shown}")
    tmux.wait_for(f"seq {shown}/{len(builder.events)}", "ghost: session-1-sugg-1#0 (model-a)")
    # The ghost text is on screen, dimmed (SGR 2), after what was typed.
    coloured = tmux.screen(escapes=True)
    ghost_line = next(line for line in coloured.splitlines() if "Hello" in line)
    assert "\x1b[2m" in ghost_line

    tmux.keys("n")
    tmux.wait_for(f"seq {shown + 1}/")
    tmux.keys("j")
    tmux.wait_for("jump to")
    tmux.keys("#999", "Enter")
    tmux.wait_for(
        f"seq {len(builder.events)}/{len(builder.events)}  t 0:09.1",
        '    return "Hi, " + name',
        "# written while paused",
        "suggestion session-1-sugg-3#0 ignored",
    )

    tmux.keys("p", "p")
    tmux.wait_for(f"seq {len(builder.events) - 2}/")
    tmux.keys("j")
    tmux.wait_for("jump to")
    tmux.keys("0:00", "Enter")
    tmux.wait_for(f"seq 1/{len(builder.events)}")
    tmux.keys("+", "+", "+", "+", "+")
    tmux.wait_for("x64")
    tmux.keys(" ")
    # Played to the end at 64x: the last seq, stopped by itself.
    tmux.wait_for(f"seq {len(builder.events)}/{len(builder.events)}  t 0:09.1  paused")
    tmux.keys("q")
    deadline = time.monotonic() + 10
    while tmux.alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not tmux.alive()


def test_the_player_survives_a_tiny_terminal(tmp_path: Path, tmux: Tmux) -> None:
    db = tmp_path / "collector.db"
    realistic_session().store(db)
    tmux.start(f"TERM=xterm-256color {EDITTRACE} replay --db {db} session-1")
    tmux.wait_for("seq 1/", "q quit")
    tmux.tmux("resize-window", "-t", "player", "-x", "20", "-y", "4")
    tmux.wait_for("terminal too small")
    tmux.tmux("resize-window", "-t", "player", "-x", "100", "-y", "30")
    tmux.wait_for("seq 1/", "q quit")
    tmux.keys("n")
    tmux.wait_for("seq 2/")
    tmux.keys("q")
    deadline = time.monotonic() + 30
    while tmux.alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not tmux.alive()
