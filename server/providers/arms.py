"""Blind comparison: two or more arms answer the same request, one candidate each.

Candidates keep the arms' configured order (their index is what events name); the order
the editor sees is drawn per request from an unseeded-by-us generator (``os.urandom``),
since position bias is large, and recorded as ``shown_order``. The arm goes into the
recorded candidate, never into what the editor shows.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections.abc import Sequence

from edittrace.server.providers.base import Completion, CompletionRequest, Provider

logger = logging.getLogger(__name__)


class ArmsProvider:
    name = "arms"

    def __init__(self, arms: Sequence[tuple[str, Provider]]) -> None:
        self._arms = list(arms)

    async def complete(self, request: CompletionRequest) -> list[Completion]:
        answers = await asyncio.gather(
            *(provider.complete(request) for _, provider in self._arms), return_exceptions=True
        )
        candidates = []
        for (arm, provider), answer in zip(self._arms, answers, strict=True):
            if isinstance(answer, BaseException):
                if isinstance(answer, asyncio.CancelledError):
                    raise answer
                logger.warning("arm %s (%s) failed: %s", arm, provider.name, answer)
                continue
            if answer:
                first = answer[0]
                candidates.append(
                    Completion(text=first.text, provider=first.provider, model=first.model, arm=arm)
                )
        return candidates

    async def close(self) -> None:
        for _, provider in self._arms:
            await provider.close()


def shown_order(count: int) -> list[int]:
    """A fresh random permutation of ``range(count)``, seeded per request from the OS."""
    order = list(range(count))
    random.Random(os.urandom(16)).shuffle(order)
    return order
