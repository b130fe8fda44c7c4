"""Any OpenAI-compatible ``/v1/completions`` endpoint (vLLM, llama.cpp server, Ollama,
OpenAI) with fill-in-the-middle: ``prompt`` is the prefix, ``suffix`` the suffix.

A slow or failing endpoint never blocks typing: each request has a timeout, is cancelled
when the editor cancels it (the awaiting task is cancelled, and httpx closes the
connection), and failures are logged and counted, never raised into the editor.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import httpx

from edittrace.server.providers.base import Completion, CompletionRequest
from edittrace.server.settings import OpenAISettings

logger = logging.getLogger(__name__)

_LOG_EVERY_S = 30.0
"""A failing endpoint is logged at most this often, not on every keystroke."""


class OpenAIProvider:
    name = "openai"

    def __init__(
        self,
        settings: OpenAISettings,
        arm: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self._settings = settings
        self._arm = arm
        environment = os.environ if env is None else env
        key = environment.get(settings.api_key_env, "") if settings.api_key_env else ""
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.AsyncClient(
            base_url=settings.url.rstrip("/"),
            headers=headers,
            timeout=settings.timeout_ms / 1000,
        )
        self.failures = 0
        self.last_error: str | None = None
        self._last_logged = 0.0

    async def complete(self, request: CompletionRequest) -> list[Completion]:
        body: dict[str, Any] = {
            "prompt": request.prefix,
            "suffix": request.suffix,
            "max_tokens": self._settings.max_tokens,
            "temperature": self._settings.temperature,
            "n": 1,
            "stream": False,
        }
        if self._settings.model:
            body["model"] = self._settings.model
        try:
            response = await self._client.post("/completions", json=body)
            response.raise_for_status()
            choices = response.json().get("choices") or []
            texts = [c.get("text") for c in choices if isinstance(c, dict)]
        except (httpx.HTTPError, ValueError, AttributeError) as error:
            self._failed(f"{type(error).__name__}: {error}")
            return []
        model = self._settings.model or None
        return [
            Completion(text=text.rstrip(), provider=self.name, model=model, arm=self._arm)
            for text in texts
            if isinstance(text, str) and text.strip()
        ][:1]

    def _failed(self, message: str) -> None:
        self.failures += 1
        self.last_error = message
        now = time.monotonic()
        if now - self._last_logged >= _LOG_EVERY_S:
            self._last_logged = now
            logger.warning(
                "openai provider at %s failed (%d so far): %s",
                self._settings.url,
                self.failures,
                message,
            )

    async def close(self) -> None:
        await self._client.aclose()
