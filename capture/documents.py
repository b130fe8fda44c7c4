"""A mirror of one open document, kept in step with LSP ``didChange`` notifications.

The text is held as a list of lines, each with its own line terminator, so that applying an
edit costs the size of the edit plus the lines it touches, never the size of the document:
a keystroke in a 2,000-line file rewrites one short string. LSP counts lines split at
``\\n``, ``\\r\\n`` and ``\\r`` only, and characters in the session's position encoding
(UTF-16 code units unless the editor negotiated UTF-8 or UTF-32); inside the mirror a
position is a ``Point``: (line, index into the line's Python string, i.e. code points).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

PositionEncoding = Literal["utf-16", "utf-8", "utf-32"]
POSITION_ENCODINGS: tuple[str, ...] = ("utf-16", "utf-8", "utf-32")

Point = tuple[int, int]
"""(line, code-point index within the line), both from 0."""

_EOL = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """Lines of ``text`` with their terminators; the last item has none and may be empty."""
    if "\n" not in text and "\r" not in text:
        return [text]
    pieces: list[str] = []
    start = 0
    for match in _EOL.finditer(text):
        pieces.append(text[start : match.end()])
        start = match.end()
    pieces.append(text[start:])
    return pieces


def advance(point: Point, text: str) -> Point:
    """The point just after ``text`` when it is inserted at ``point``."""
    if "\n" not in text and "\r" not in text:
        return (point[0], point[1] + len(text))
    breaks = 0
    last_end = 0
    for match in _EOL.finditer(text):
        breaks += 1
        last_end = match.end()
    return (point[0] + breaks, len(text) - last_end)


def content_of(line: str) -> str:
    """A line without its terminator."""
    if line.endswith("\r\n"):
        return line[:-2]
    if line.endswith(("\n", "\r")):
        return line[:-1]
    return line


def units_to_index(content: str, units: int, encoding: str) -> int:
    """Code-point index of ``units`` encoding units into ``content``, clamped to the line.

    A position inside a character (half a surrogate pair, part of a UTF-8 sequence) rounds
    down to the start of that character.
    """
    if units <= 0:
        return 0
    if encoding == "utf-32" or content.isascii():
        return min(units, len(content))
    if encoding == "utf-8":
        return len(content.encode("utf-8", "surrogatepass")[:units].decode("utf-8", "ignore"))
    encoded = content.encode("utf-16-le", "surrogatepass")[: units * 2]
    return len(encoded.decode("utf-16-le", "ignore"))


def index_to_units(content: str, index: int, encoding: str) -> int:
    """Encoding units before code-point ``index`` of ``content``."""
    head = content[:index]
    if encoding == "utf-32" or head.isascii():
        return len(head)
    if encoding == "utf-8":
        return len(head.encode("utf-8", "surrogatepass"))
    return len(head.encode("utf-16-le", "surrogatepass")) // 2


def text_length(text: str, encoding: str) -> int:
    """Length of ``text`` in encoding units."""
    return index_to_units(text, len(text), encoding)


def common_prefix_length(a: str, b: str) -> int:
    """Length of the longest common prefix, comparing in chunks so long texts stay fast."""
    limit = min(len(a), len(b))
    low, step = 0, 256
    while low < limit:
        high = min(limit, low + step)
        if a[low:high] != b[low:high]:
            while a[low] == b[low]:
                low += 1
            return low
        low = high
        step *= 2
    return limit


def sha256_of(text: str) -> str:
    """Hex sha256 of the UTF-8 bytes of ``text``, as ``doc.snapshot`` carries it."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class AppliedChange:
    """What one content change did, in the mirror's points (before and after it)."""

    start: Point
    old_end: Point
    """End of the replaced range in the text before the change."""
    new_end: Point
    """End of the inserted text in the text after the change."""
    deleted: str
    inserted: str
    full: bool
    """True for a whole-document replacement (``{"text": ...}`` without a range)."""


class DocumentMirror:
    """The text of one document as the editor holds it, at ``version``."""

    def __init__(self, text: str, *, version: int, encoding: str = "utf-16") -> None:
        if encoding not in POSITION_ENCODINGS:
            raise ValueError(
                f"unknown position encoding {encoding!r}; expected one of "
                f"{', '.join(POSITION_ENCODINGS)}"
            )
        self.encoding = encoding
        self.version = version
        self._lines = split_lines(text)
        self.length = len(text)
        """Length of the text in code points, kept without re-reading the text."""

    # --- reading -------------------------------------------------------------------------

    @property
    def line_count(self) -> int:
        return len(self._lines)

    def text(self) -> str:
        """The whole text; costs the size of the document, so only for snapshots."""
        return "".join(self._lines)

    def line(self, number: int) -> str:
        """Line ``number`` without its terminator ("" past the end)."""
        if 0 <= number < len(self._lines):
            return content_of(self._lines[number])
        return ""

    def end_point(self) -> Point:
        return (len(self._lines) - 1, len(self._lines[-1]))

    def clamp(self, point: Point) -> Point:
        """The nearest real point: past the end of a line is its end, past the last line the end."""
        line, column = point
        if line < 0:
            return (0, 0)
        if line >= len(self._lines):
            return self.end_point()
        return (line, max(0, min(column, len(content_of(self._lines[line])))))

    def to_point(self, position: Mapping[str, Any]) -> Point:
        """An LSP position (in the mirror's encoding) as a clamped point."""
        line = int(position.get("line", 0))
        units = int(position.get("character", 0))
        if line < 0:
            return (0, 0)
        if line >= len(self._lines):
            return self.end_point()
        return (line, units_to_index(content_of(self._lines[line]), units, self.encoding))

    def to_position(self, point: Point) -> dict[str, int]:
        """A point as an LSP position in the mirror's encoding."""
        line, column = self.clamp(point)
        units = index_to_units(content_of(self._lines[line]), column, self.encoding)
        return {"line": line, "character": units}

    def to_range(self, start: Point, end: Point) -> dict[str, dict[str, int]]:
        return {"start": self.to_position(start), "end": self.to_position(end)}

    def slice(self, start: Point, end: Point) -> str:
        """Text between two points; costs the size of the slice and the lines it spans."""
        start, end = self.clamp(start), self.clamp(end)
        if end < start:
            start, end = end, start
        return self._slice(start, end)

    def _slice(self, start: Point, end: Point) -> str:
        """``slice`` of points known to be clamped and in order."""
        if start[0] == end[0]:
            return self._lines[start[0]][start[1] : end[1]]
        parts = [self._lines[start[0]][start[1] :]]
        parts.extend(self._lines[start[0] + 1 : end[0]])
        parts.append(self._lines[end[0]][: end[1]])
        return "".join(parts)

    def text_before(self, point: Point, limit: int) -> str:
        """Up to ``limit`` characters before ``point``, reading only the lines needed."""
        line, column = self.clamp(point)
        parts = [self._lines[line][:column]]
        total = column
        while total < limit and line > 0:
            line -= 1
            parts.append(self._lines[line])
            total += len(self._lines[line])
        text = "".join(reversed(parts))
        return text[len(text) - limit :] if len(text) > limit else text

    def text_after(self, point: Point, limit: int) -> str:
        """Up to ``limit`` characters after ``point``, reading only the lines needed."""
        line, column = self.clamp(point)
        parts = [self._lines[line][column:]]
        total = len(parts[0])
        while total < limit and line + 1 < len(self._lines):
            line += 1
            parts.append(self._lines[line])
            total += len(self._lines[line])
        return "".join(parts)[:limit]

    def find_near(self, text: str, point: Point, lines_around: int = 3) -> Point | None:
        """Where ``text`` starts closest to ``point``, searching a few lines either side."""
        if not text:
            return None
        first = max(0, point[0] - lines_around)
        last = min(len(self._lines), point[0] + lines_around + text.count("\n") + 2)
        window = "".join(self._lines[first:last])
        anchor = len("".join(self._lines[first : point[0]])) + point[1]
        best: int | None = None
        found = window.find(text)
        while found != -1:
            if best is None or abs(found - anchor) < abs(best - anchor):
                best = found
            found = window.find(text, found + 1)
        if best is None:
            return None
        return advance((first, 0), window[:best])

    # --- writing -------------------------------------------------------------------------

    def apply(self, change: Mapping[str, Any]) -> AppliedChange:
        """Apply one LSP content change: ``{"range": ..., "text": ...}`` or ``{"text": ...}``."""
        text = str(change.get("text", ""))
        change_range = change.get("range")
        if not isinstance(change_range, Mapping):
            return self._replace_all(text)
        start = self.to_point(change_range.get("start", {}))
        end = self.to_point(change_range.get("end", {}))
        if end < start:
            start, end = end, start
        line = start[0]
        if line == end[0] and "\n" not in text and "\r" not in text:
            # The keystroke path: one line, no line break typed, terminators untouched;
            # unless emptying the line puts its "\n" right after the previous line's "\r".
            current = self._lines[line]
            replaced = current[: start[1]] + text + current[end[1] :]
            if not (replaced[:1] == "\n" and line > 0 and self._lines[line - 1][-1:] == "\r"):
                deleted = current[start[1] : end[1]]
                self._lines[line] = replaced
                self.length += len(text) - len(deleted)
                new_end = (line, start[1] + len(text))
                return AppliedChange(start, end, new_end, deleted, text, full=False)
        deleted = self._slice(start, end)
        self._splice(start, end, text)
        self.length += len(text) - len(deleted)
        return AppliedChange(start, end, advance(start, text), deleted, text, full=False)

    def _replace_all(self, text: str) -> AppliedChange:
        """A whole-document replacement, reported as the smallest range it really changed
        (common prefix and suffix kept) so that followers of the text are not thrown off."""
        old = self.text()
        prefix = common_prefix_length(old, text)
        suffix = common_prefix_length(old[prefix:][::-1], text[prefix:][::-1])
        self._lines = split_lines(text)
        self.length = len(text)
        start = advance((0, 0), old[:prefix])
        deleted = old[prefix : len(old) - suffix]
        inserted = text[prefix : len(text) - suffix]
        return AppliedChange(
            start, advance(start, deleted), advance(start, inserted), deleted, inserted, full=True
        )

    def _splice(self, start: Point, end: Point, text: str) -> None:
        lines = self._lines
        low, high = start[0], end[0] + 1
        combined = lines[start[0]][: start[1]] + text + lines[end[0]][end[1] :]
        # A lone "\r" ending the previous line and a "\n" now starting this one are one
        # "\r\n" terminator: re-split them together so line numbers stay LSP's.
        if low > 0 and combined.startswith("\n") and lines[low - 1].endswith("\r"):
            low -= 1
            combined = lines[low] + combined
        if combined.endswith("\r") and high < len(lines):
            combined += lines[high]
            high += 1
        pieces = split_lines(combined)
        if high < len(lines) and pieces[-1] == "":
            pieces.pop()
        lines[low:high] = pieces
