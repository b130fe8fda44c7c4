"""A fake OpenAI-compatible ``/v1/completions`` endpoint on loopback, for provider tests.

It is a stand-in for an external service (vLLM, llama.cpp, OpenAI), not for a part of
edittrace: it answers as told (text, status, delay) and remembers every request.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


class Endpoint:
    """An OpenAI-style /v1/completions that answers as told and remembers what it got."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        self.delay_s = 0.0
        self.status = 200
        self.text = "a + b"
        self.received = threading.Event()
        self.held = threading.Event()
        """While cleared, answers wait (set by default): a request stays in flight at will."""
        self.held.set()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                endpoint.requests.append((self.path, body, dict(self.headers)))
                endpoint.received.set()
                time.sleep(endpoint.delay_s)
                endpoint.held.wait(60)
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
