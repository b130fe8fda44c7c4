"""The OpenAI-compatible provider against a real HTTP endpoint on loopback."""

from __future__ import annotations

import asyncio

import pytest

from edittrace.server.providers.base import CompletionRequest
from edittrace.server.providers.openai import OpenAIProvider
from edittrace.server.settings import OpenAISettings
from tests.support.openai_endpoint import Endpoint, endpoint

__all__ = ["endpoint"]

REQUEST = CompletionRequest(
    uri="file:///w/x.py",
    language_id="python",
    prefix="def add(a, b):\n    return ",
    suffix="\n\nprint(add(1, 2))\n",
    line_prefix="    return ",
    line_suffix="",
    trigger="automatic",
)


async def test_fill_in_the_middle_request_and_answer(endpoint: Endpoint) -> None:
    settings = OpenAISettings(url=endpoint.url, model="coder", max_tokens=16, api_key_env="K")
    provider = OpenAIProvider(settings, env={"K": "sk-test"})
    [completion] = await provider.complete(REQUEST)
    await provider.close()
    assert (completion.text, completion.provider, completion.model) == ("a + b", "openai", "coder")
    path, body, headers = endpoint.requests[0]
    assert path == "/v1/completions"
    assert body["prompt"] == REQUEST.prefix and body["suffix"] == REQUEST.suffix
    assert body["model"] == "coder" and body["max_tokens"] == 16
    assert headers["Authorization"] == "Bearer sk-test"


async def test_a_failing_endpoint_gives_no_suggestion_and_is_counted(endpoint: Endpoint) -> None:
    endpoint.status = 500
    provider = OpenAIProvider(OpenAISettings(url=endpoint.url), env={})
    assert await provider.complete(REQUEST) == []
    assert await provider.complete(REQUEST) == []
    await provider.close()
    assert provider.failures == 2 and provider.last_error and "500" in provider.last_error
    assert "Authorization" not in endpoint.requests[0][2]


async def test_a_slow_endpoint_times_out(endpoint: Endpoint) -> None:
    endpoint.delay_s = 2.0
    provider = OpenAIProvider(OpenAISettings(url=endpoint.url, timeout_ms=100), env={})
    assert await provider.complete(REQUEST) == []
    await provider.close()
    assert provider.failures == 1 and "Timeout" in (provider.last_error or "")


async def test_cancelling_the_request_stops_waiting(endpoint: Endpoint) -> None:
    endpoint.delay_s = 2.0
    provider = OpenAIProvider(OpenAISettings(url=endpoint.url, timeout_ms=10_000), env={})
    task = asyncio.ensure_future(provider.complete(REQUEST))
    assert await asyncio.to_thread(endpoint.received.wait, 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await provider.close()
    assert provider.failures == 0
