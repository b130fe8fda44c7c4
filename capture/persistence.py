"""What becomes of accepted text: its span followed through every later edit, and the
Levenshtein distance to what was accepted at each checkpoint (Ziegler et al. 2022).

A span is a pair of mirror points. An edit before the span shifts it; an edit inside it
changes its text; an edit across one of its ends takes the replaced part out and puts the
replacement in (deleting across the span shrinks it, down to empty). Text inserted exactly
at either end is outside the span: typing right after an accepted completion is not an
edit of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from edittrace.capture.documents import AppliedChange, Point

MOSTLY_UNCHANGED_BELOW = 0.33
"""``distance / max(len(accepted), len(current))`` under this is "mostly unchanged"."""

LEVENSHTEIN_LIMIT = 20_000
"""Differing middles longer than this (after common prefix and suffix) are not compared
character by character: the distance is then reported as the longer one's length."""


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insert, delete, substitute one code point) between ``a`` and ``b``.

    Common prefix and suffix are stripped first; the rest uses Myers' bit-parallel
    algorithm (Hyyrö 2003) on Python integers: one pass over ``b`` with ``len(a)``-bit
    words, so two 4,000-character spans cost milliseconds, not a 16-million-cell table.
    """
    if a == b:
        return 0
    prefix = 0
    limit = min(len(a), len(b))
    while prefix < limit and a[prefix] == b[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and a[-1 - suffix] == b[-1 - suffix]:
        suffix += 1
    a = a[prefix : len(a) - suffix]
    b = b[prefix : len(b) - suffix]
    if not a or not b:
        return len(a) + len(b)
    if min(len(a), len(b)) > LEVENSHTEIN_LIMIT:
        return max(len(a), len(b))
    if len(a) > len(b):
        a, b = b, a
    return _myers(a, b)


def _myers(pattern: str, text: str) -> int:
    width = len(pattern)
    full = (1 << width) - 1
    top = 1 << (width - 1)
    masks: dict[str, int] = {}
    for position, char in enumerate(pattern):
        masks[char] = masks.get(char, 0) | (1 << position)
    plus, minus, score = full, 0, width
    for char in text:
        equal = masks.get(char, 0)
        vertical = equal | minus
        horizontal = (((equal & plus) + plus) ^ plus) | equal
        h_plus = minus | (~(horizontal | plus) & full)
        h_minus = plus & horizontal
        if h_plus & top:
            score += 1
        elif h_minus & top:
            score -= 1
        h_plus = ((h_plus << 1) | 1) & full
        h_minus = (h_minus << 1) & full
        plus = h_minus | (~(vertical | h_plus) & full)
        minus = h_plus & vertical
    return score


@dataclass(frozen=True)
class Persistence:
    """The figures of one ``suggestion.persistence`` event."""

    unchanged: bool
    mostly_unchanged: bool
    distance: int
    accepted_length: int


def measure(accepted: str, current: str) -> Persistence:
    distance = levenshtein(accepted, current)
    longest = max(len(accepted), len(current))
    return Persistence(
        unchanged=accepted == current,
        mostly_unchanged=longest == 0 or distance / longest < MOSTLY_UNCHANGED_BELOW,
        distance=distance,
        accepted_length=len(accepted),
    )


def map_point(point: Point, change: AppliedChange, *, is_start: bool) -> Point:
    """Where ``point`` is after ``change``.

    At a pure insertion exactly on the point, a span's start moves after the new text and
    its end stays, so the insertion stays outside. A point inside a replaced range goes to
    the replacement's start (span start) or end (span end), so the replacement joins the span.
    """
    start, end = change.start, change.old_end
    if point < start:
        return point
    if point == start:
        return change.new_end if is_start and start == end else point
    if point < end:
        return start if is_start else change.new_end
    if point[0] == end[0]:
        return (change.new_end[0], change.new_end[1] + point[1] - end[1])
    return (point[0] + change.new_end[0] - end[0], point[1])


@dataclass
class TrackedSpan:
    """An accepted candidate's text, followed in its document."""

    suggestion: str
    candidate: int
    uri: str
    accepted_text: str
    start: Point
    end: Point
    accepted_ms: int
    checkpoints_s: list[int] = field(default_factory=list)
    """Checkpoints not yet measured, ascending."""

    def follow(self, change: AppliedChange) -> None:
        self.start = map_point(self.start, change, is_start=True)
        self.end = max(self.start, map_point(self.end, change, is_start=False))

    def next_due_ms(self) -> int | None:
        if not self.checkpoints_s:
            return None
        return self.accepted_ms + self.checkpoints_s[0] * 1000


@dataclass(frozen=True)
class AcceptedSpan:
    """A recently accepted suggestion and where its text sits now (for a CodeLens)."""

    suggestion: str
    candidate: int
    range: dict[str, Any]
    """LSP range in the session's position encoding."""
    accepted_ms: int
