"""The OpenAI-compatible provider against a real HTTP endpoint on loopback."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from edittrace.server.providers.base import CompletionRequest
from edittrace.server.providers.openai import OpenAIProvider
from edittrace.server.settings import OpenAISettings

REQUEST = CompletionRequest(
    uri="file:///w/x.py",
    language_id="python",
    prefix="def add(a, b):\n    return ",
    suffix="\n\nprint(add(1, 2))\n",
    line_prefix="    return ",
    line_suffix="",
    trigger="automatic",
)


class Endpoint:
    """An OpenAI-style /v1/completions that answers as told and remembers what it got."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        self.delay_s = 0.0
        self.status = 200
        self.text = "a + b"
        self.received = threading.Event()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                endpoint.requests.append((self.path, body, dict(self.headers)))
                endpoint.received.set()
                time.sleep(endpoint.delay_s)
                payload = json.dumps({"choices": [{"text": endpoint.text, "index": 0}]}).encode()
                try:
                    self.send_response(endpoint.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up (timeout or cancel)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    served = Endpoint()
    yield served
    served.server.shutdown()
    served.server.server_close()


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
