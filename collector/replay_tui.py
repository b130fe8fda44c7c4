"""The terminal player behind ``edittrace replay --db PATH SESSION`` (curses).

Everything shown comes from ``SessionReplay.state_at``: this module only draws it and
moves the seq. Playback waits the recorded gap between events divided by the speed,
capped at ``MAX_GAP_MS`` so that a coffee break does not stall the replay.
"""

from __future__ import annotations

import bisect
import contextlib
import curses
from dataclasses import dataclass, field
from typing import Any

from edittrace.collector.replay import ReplayEvent, SessionReplay, State
from edittrace.collector.replay_text import Provenance

MAX_GAP_MS = 2_000
SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 64.0)
_COLOURS = {
    "typed": curses.COLOR_WHITE,
    "accepted": curses.COLOR_GREEN,
    "accepted_edited": curses.COLOR_YELLOW,
    "pasted": curses.COLOR_MAGENTA,
    "initial": curses.COLOR_CYAN,
    "unrecorded": curses.COLOR_RED,
}


@dataclass
class Playback:
    """Where the player is and how it moves; no curses here."""

    session: SessionReplay
    seq: int
    playing: bool = False
    speed_index: int = 2
    uri: str | None = None
    notes: list[tuple[int, str]] = field(default_factory=list)
    """(seq, text) of outcomes, ratings and comparisons, for the status line."""

    @property
    def speed(self) -> float:
        return SPEEDS[self.speed_index]

    @property
    def last(self) -> int:
        return self.session.last_seq

    def step(self, delta: int) -> None:
        self.seq = max(1, min(self.last, self.seq + delta))
        if self.seq >= self.last:
            self.playing = False

    def faster(self, up: bool) -> None:
        self.speed_index = max(0, min(len(SPEEDS) - 1, self.speed_index + (1 if up else -1)))

    def delay_ms(self) -> int:
        """How long to wait before the next event while playing."""
        now, after = self.session.ts_of(self.seq), self.session.ts_of(self.seq + 1)
        if now is None or after is None:
            return 0
        return int(min(max(after - now, 0), MAX_GAP_MS) / self.speed)

    def jump(self, answer: str) -> str | None:
        """``#SEQ`` or a time from the session start (``m:ss``, ``ss`` or ``h:mm:ss``)."""
        answer = answer.strip()
        try:
            if answer.startswith("#"):
                self.seq = max(1, min(self.last, int(answer[1:])))
                return None
            seconds = 0.0
            for part in answer.split(":"):
                seconds = seconds * 60 + float(part)
        except ValueError:
            return f"not a time or #seq: {answer!r}"
        start = self.session.ts_of(1) or 0
        self.seq = max(1, self.session.seq_at(start + int(seconds * 1000)))
        return None

    def note(self) -> str:
        """The latest outcome, rating or comparison at or before the current seq."""
        position = bisect.bisect_right(self.notes, (self.seq, "\uffff")) - 1
        return self.notes[position][1] if position >= 0 else ""

    def pick_document(self, state: State) -> str | None:
        """The document chosen with Tab, else the last one with a known cursor."""
        if self.uri in state.documents:
            return self.uri
        documents = list(state.documents.values())
        edited = [document for document in documents if document.cursor_offset is not None]
        return (edited or documents)[-1].uri if documents else None


def describe(event: ReplayEvent) -> str:
    """One line about an event, for the status line."""
    data: dict[str, Any] = dict(event.data)
    kind = event.type
    if kind == "suggestion.ended":
        shown = data.get("shown_ms")
        seconds = f", on screen {shown / 1000:.1f} s" if isinstance(shown, int) else ""
        return f"suggestion {data['suggestion']}#{data['candidate']} {data['outcome']}{seconds}"
    if kind == "rating.submitted":
        parts = [f"thumbs {data['thumbs']}" if "thumbs" in data else ""]
        parts.append(f"{data['stars']} stars" if "stars" in data else "")
        parts.append(f'"{data["comment"]}"' if "comment" in data else "")
        return f"rating of {data['suggestion']}: " + " ".join(p for p in parts if p)
    if kind == "comparison.choice":
        chosen = f" {data['candidate']}" if data.get("candidate") is not None else ""
        return f"comparison of {data['suggestion']}: {data['choice']}{chosen}"
    if kind == "doc.change":
        return f"edit {data['uri']} (version {data['version']})"
    if kind.startswith("suggestion."):
        return f"{kind} {data.get('suggestion')}"
    return kind + (f" {data['uri']}" if "uri" in data else "")


def play(session: SessionReplay, start_seq: int | None = None) -> None:
    """Run the interactive player until the person presses q."""
    playback = Playback(session, seq=start_seq or 1)
    playback.notes = [
        (event.seq, describe(event))
        for event in session.events(
            types=["suggestion.ended", "rating.submitted", "comparison.choice"]
        )
    ]
    curses.wrapper(_loop, playback)


def _loop(screen: Any, playback: Playback) -> None:
    curses.curs_set(0)
    attrs = _attributes()
    message = ""
    while True:
        state = playback.session.state_at(seq=playback.seq)
        _draw(screen, playback, state, attrs, message)
        message = ""
        screen.timeout(playback.delay_ms() if playback.playing else -1)
        key = screen.getch()
        if key == -1:
            playback.step(1)
        elif key in (ord("q"), ord("Q")):
            return
        elif key == ord(" "):
            playback.playing = not playback.playing and playback.seq < playback.last
        elif key in (ord("+"), ord("=")):
            playback.faster(True)
        elif key in (ord("-"), ord("_")):
            playback.faster(False)
        elif key in (ord("n"), curses.KEY_RIGHT):
            playback.step(1)
        elif key in (ord("p"), curses.KEY_LEFT):
            playback.step(-1)
        elif key == ord("\t"):
            uris = list(state.documents)
            if uris:
                current = uris.index(playback.uri) if playback.uri in uris else -1
                playback.uri = uris[(current + 1) % len(uris)]
        elif key == ord("j"):
            message = playback.jump(_prompt(screen, "jump to (m:ss or #seq): ")) or ""


def _attributes() -> dict[str, int]:
    attrs = {name: curses.A_NORMAL for name in _COLOURS}
    attrs["ghost"] = curses.A_DIM
    if curses.has_colors():
        curses.start_color()
        curses.use_default_colors()
        for number, (name, colour) in enumerate(_COLOURS.items(), start=1):
            curses.init_pair(number, colour, -1)
            attrs[name] = curses.color_pair(number)
        attrs["typed"] = curses.A_NORMAL
    return attrs


def _prompt(screen: Any, question: str) -> str:
    height, width = screen.getmaxyx()
    screen.timeout(-1)
    screen.move(height - 1, 0)
    screen.clrtoeol()
    screen.addnstr(height - 1, 0, question, width - 1, curses.A_BOLD)
    curses.echo()
    curses.curs_set(1)
    try:
        raw = screen.getstr(height - 1, len(question), 40)
    finally:
        curses.noecho()
        curses.curs_set(0)
    return bytes(raw).decode("utf-8", "replace")


def _draw(
    screen: Any, playback: Playback, state: State, attrs: dict[str, int], message: str
) -> None:
    screen.erase()
    height, width = screen.getmaxyx()
    if height < 6 or width < 30:
        with contextlib.suppress(curses.error):
            screen.addnstr(0, 0, "terminal too small", max(1, width - 1))
        screen.refresh()
        return
    uri = playback.pick_document(state)
    start = playback.session.ts_of(1) or 0
    elapsed = ((state.ts or start) - start) / 1000
    mode = "playing" if playback.playing else "paused"
    title = (
        f" {playback.session.id}  seq {state.seq}/{playback.last}  "
        f"t {int(elapsed // 60)}:{elapsed % 60:04.1f}  {mode} x{playback.speed:g}"
        + ("  [capture paused]" if state.paused else "")
    )
    screen.addnstr(0, 0, title.ljust(width), width - 1, curses.A_REVERSE)
    screen.addnstr(1, 0, f" {uri or '(no open document)'}", width - 1, curses.A_BOLD)
    if uri is not None:
        _draw_document(screen, state, uri, attrs, 2, height - 4, width)
    ghosts = [s for s in state.suggestions if s.shown]
    suggestion_line = (
        f" ghost: {ghosts[0].suggestion}#{ghosts[0].candidate} ({ghosts[0].model or '?'})"
        if ghosts
        else ""
    )
    screen.addnstr(
        height - 2,
        0,
        (suggestion_line + "  " + playback.note()).ljust(width),
        width - 1,
        curses.A_REVERSE,
    )
    help_line = message or "space play/pause  +/- speed  n/p step  j jump  Tab document  q quit"
    screen.addnstr(height - 1, 0, help_line, width - 1)
    screen.refresh()


def _draw_document(
    screen: Any, state: State, uri: str, attrs: dict[str, int], top: int, rows: int, width: int
) -> None:
    """The text with provenance colours and the shown suggestion's ghost text, dimmed."""
    document = state.documents[uri]
    cells: list[tuple[str, int]] = []
    kinds = document.provenance
    ghost = next((s for s in state.suggestions if s.shown and s.uri == uri), None)
    cursor = document.cursor_offset or 0
    cursor_cell = 0
    for offset, char in enumerate(document.text):
        if ghost is not None and offset == ghost.ghost_offset:
            cells.extend((c, attrs["ghost"]) for c in ghost.ghost_text)
        if offset == cursor:
            cursor_cell = len(cells)
        name = "typed" if kinds is None else _label(kinds[offset])
        cells.append((char, attrs[name]))
    if ghost is not None and ghost.ghost_offset >= len(document.text):
        cells.extend((c, attrs["ghost"]) for c in ghost.ghost_text)
    if cursor >= len(document.text):
        cursor_cell = len(cells)
    lines: list[list[tuple[str, int]]] = [[]]
    cursor_line = 0
    for index, (char, attr) in enumerate(cells):
        if index == cursor_cell:
            cursor_line = len(lines) - 1
        if char == "\n":
            lines.append([])
        else:
            lines[-1].append((" " if not char.isprintable() else char, attr))
    first = max(0, min(cursor_line - rows // 2, len(lines) - rows))
    for row, line in enumerate(lines[first : first + rows]):
        for column, (char, attr) in enumerate(line[: width - 1]):
            # The bottom-right cell of a window cannot be written without an error.
            with contextlib.suppress(curses.error):
                screen.addstr(top + row, column, char, attr)


def _label(kind: int) -> str:
    return Provenance(kind).label
