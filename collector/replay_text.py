"""Document text for replay: LSP positions to offsets, applying changes, character provenance.

Offsets here are Python string indexes (code points). LSP positions count ``character``
in the session's position encoding (``utf-16`` by default, ``utf-8`` or ``utf-32``);
lines end at ``\\n``. A ``\\r`` before it counts as a character of the line, so a
position past the end of a CRLF line clamps to just before the ``\\n``; a lone ``\\r``
does not end a line (editors send ``\\n`` or ``\\r\\n``).

Provenance is one byte per character, kept beside the text in a ``bytearray`` so a
change costs one slice assignment. What each kind means, and the paste rule, is in
docs/replay.md ("Provenance").
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping
from enum import IntEnum
from typing import Any


class Provenance(IntEnum):
    """Where a character came from. The names are what the API and the viewer show."""

    INITIAL = 0
    """In the document when it was opened (or first seen in a snapshot)."""
    TYPED = 1
    ACCEPTED = 2
    """Inserted by accepting a suggestion (whole or partial)."""
    ACCEPTED_EDITED = 3
    """Part of an accepted suggestion's text that the person later changed."""
    PASTED = 4
    """A multi-character insertion that is neither a suggestion nor what typing produces."""
    UNRECORDED = 5
    """Appeared while capture was paused (known only from the snapshot sent on resume)."""

    @property
    def label(self) -> str:
        return self.name.lower()


ACCEPTED_KINDS = frozenset((Provenance.ACCEPTED, Provenance.ACCEPTED_EDITED))
_AUTO_PAIRS = frozenset(("()", "[]", "{}", '""', "''", "``", "<>"))


def classify_insertion(text: str) -> Provenance:
    """Typed or pasted, for an insertion not matched to a suggestion.

    One character is typed. So is whitespace only (Enter with auto-indent) and an
    auto-closed pair such as ``()``. Anything else of two or more characters is pasted.
    """
    if len(text) <= 1 or text.isspace() or text in _AUTO_PAIRS:
        return Provenance.TYPED
    return Provenance.PASTED


def line_starts(text: str) -> list[int]:
    """Offset of the first character of every line."""
    starts = [0]
    newline = text.find("\n")
    while newline >= 0:
        starts.append(newline + 1)
        newline = text.find("\n", newline + 1)
    return starts


def shift_line_starts(starts: list[int], start: int, end: int, inserted: str) -> None:
    """Update ``starts`` in place after ``start..end`` was replaced by ``inserted``."""
    first = bisect.bisect_right(starts, start)  # lines beginning after the edit's start
    last = bisect.bisect_right(starts, end)  # ... up to and including its end: removed
    delta = len(inserted) - (end - start)
    added = []
    newline = inserted.find("\n")
    while newline >= 0:
        added.append(start + newline + 1)
        newline = inserted.find("\n", newline + 1)
    starts[first:] = added + [offset + delta for offset in starts[last:]]


def offset_at(
    text: str, position: Mapping[str, Any], encoding: str, starts: list[int] | None = None
) -> int:
    """The code point offset of an LSP ``position`` in ``text``; past the end clamps.

    ``starts`` (from ``line_starts``) saves scanning the text for the line.
    """
    line = int(position["line"])
    character = int(position["character"])
    if starts is None:
        starts = line_starts(text)
    if line >= len(starts):
        return len(text)
    start = starts[line]
    end = starts[line + 1] - 1 if line + 1 < len(starts) else len(text)
    content = text[start:end]
    if encoding == "utf-32" or content.isascii():
        return start + min(character, len(content))
    counted = 0
    for index, char in enumerate(content):
        if counted >= character:
            return start + index
        code = ord(char)
        if encoding == "utf-8":
            counted += 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
        else:
            counted += 2 if code > 0xFFFF else 1
    return end


def position_at(text: str, offset: int, encoding: str) -> dict[str, int]:
    """The LSP position of code point ``offset`` in ``text``."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    part = text[start:offset]
    if encoding == "utf-32" or part.isascii():
        character = len(part)
    elif encoding == "utf-8":
        character = len(part.encode("utf-8"))
    else:
        character = len(part.encode("utf-16-le")) // 2
    return {"line": line, "character": character}


def runs(provenance: bytes | bytearray) -> list[tuple[int, int, Provenance]]:
    """``(start, end, kind)`` for each run of characters of the same provenance."""
    # A regular expression finds the runs in C: a document's worth of bytes per state.
    return [
        (match.start(), match.end(), Provenance(match.group()[0]))
        for match in _RUN.finditer(provenance)
    ]


_RUN = re.compile(rb"(.)\1*", re.DOTALL)


def common_affixes(old: str, new: str) -> tuple[int, int]:
    """Lengths of the common prefix and (non-overlapping) common suffix of two texts.

    Bisection over C-level ``startswith``/``endswith`` rather than a character loop: a
    client syncing full text sends the whole document on every keystroke.
    """
    limit = min(len(old), len(new))
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if old.startswith(new[:middle]):
            low = middle
        else:
            high = middle - 1
    prefix = low
    low, high = 0, limit - prefix
    while low < high:
        middle = (low + high + 1) // 2
        if old.endswith(new[len(new) - middle :]):
            low = middle
        else:
            high = middle - 1
    return prefix, low


def mark_edited_span(provenance: bytearray, start: int, end: int, inserting: bool) -> None:
    """An edit of ``start..end`` touches accepted text: the rest of that span becomes edited.

    A deletion or replacement touches it when any removed character was accepted; an
    insertion when it lands strictly inside a run of accepted characters.
    """
    length = len(provenance)
    if inserting:
        touches = (
            0 < start < length
            and provenance[start - 1] in ACCEPTED_KINDS
            and provenance[start] in ACCEPTED_KINDS
        )
    else:
        touches = any(provenance[i] in ACCEPTED_KINDS for i in range(start, end))
    if not touches:
        return
    left = start
    while left > 0 and provenance[left - 1] in ACCEPTED_KINDS:
        left -= 1
    right = end
    while right < length and provenance[right] in ACCEPTED_KINDS:
        right += 1
    for index in range(left, right):
        if provenance[index] in ACCEPTED_KINDS:
            provenance[index] = Provenance.ACCEPTED_EDITED
