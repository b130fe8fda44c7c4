"""The one interface every suggestion provider implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class CompletionRequest:
    """What a provider sees: the document around the cursor, as Python strings.

    ``prefix`` ends at the cursor and ``suffix`` starts there; both may be truncated
    to the nearest few thousand characters. ``line_prefix`` is the part of the
    cursor's line before it, whole.
    """

    uri: str
    language_id: str
    prefix: str
    suffix: str
    line_prefix: str
    line_suffix: str
    trigger: str
    """``automatic`` (typing) or ``invoked`` (the person asked)."""


@dataclass(frozen=True)
class Completion:
    """One proposal: text to insert at the cursor."""

    text: str
    provider: str
    model: str | None = None
    arm: str | None = None


class Provider(Protocol):
    """Answers one inline completion request; may be cancelled at any await."""

    name: str

    async def complete(self, request: CompletionRequest) -> list[Completion]: ...

    async def close(self) -> None: ...
