"""The default provider: offline, deterministic, no network. An n-gram model of the
workspace's files (read once in a background thread, bounded, only files in scope)
and of the open document, proposing the rest of the line or block."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable, Iterable

from edittrace.server.providers.base import Completion, CompletionRequest
from edittrace.server.providers.ngram import NgramModel

logger = logging.getLogger(__name__)

MODEL_NAME = "ngram-4"


class BuiltinProvider:
    name = "builtin"

    def __init__(self, arm: str | None = None) -> None:
        self._model = NgramModel.build(())
        self._arm = arm
        self.ready = threading.Event()
        """Set once the workspace has been read (tests and the bench wait on it)."""

    def load_in_background(self, read_texts: Callable[[], Iterable[str]]) -> threading.Thread:
        """Build the model from ``read_texts()`` in a daemon thread, then swap it in."""

        def build() -> None:
            try:
                model = NgramModel.build(read_texts())
                self._model = model  # one reference assignment: atomic for readers
                # The model is millions of long-lived objects: keep the collector from
                # walking them on every full collection (a pause felt while typing).
                gc.freeze()
                logger.info("builtin model: %d distinct lines", len(model.line_counts))
            except Exception:
                logger.exception("builtin model: reading the workspace failed")
            finally:
                self.ready.set()

        thread = threading.Thread(target=build, name="edittrace-builtin-model", daemon=True)
        thread.start()
        return thread

    def use_model(self, model: NgramModel) -> None:
        self._model = model
        self.ready.set()

    async def complete(self, request: CompletionRequest) -> list[Completion]:
        before = request.prefix[: len(request.prefix) - len(request.line_prefix)].splitlines()
        text = self._model.complete(before, request.line_prefix, request.line_suffix)
        if not text.strip():
            return []
        return [Completion(text=text, provider=self.name, model=MODEL_NAME, arm=self._arm)]

    async def close(self) -> None:
        return None
