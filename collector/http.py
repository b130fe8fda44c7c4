"""Plain HTTP GETs on the collector's port, through a small route table.

The websockets server hands every request that is not ``/v1/stream`` to ``dispatch``.
Other parts plug in their pages without touching the server loop::

    from edittrace.collector.http import HttpRequest, register_route, respond

    def show(request: HttpRequest) -> Response:
        return respond(200, "<h1>hi</h1>", "text/html; charset=utf-8")

    register_route("/replay/", show)            # researcher token required (default)

A route registered with ``role=None`` is public. Researcher routes accept the token as
``Authorization: Bearer TOKEN`` or ``?token=TOKEN``. The longest matching prefix wins.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import sqlite_utils
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from edittrace.collector.tokens import Role, TokenCheck, verify_token


@dataclass(frozen=True)
class HttpRequest:
    """What a route handler gets: the parsed request, who asked, and where the data is."""

    path: str
    """The path without the query string, e.g. ``/replay/SESSION``."""
    query: Mapping[str, list[str]]
    headers: Headers
    db_path: Path
    """The collector database; handlers open it themselves (read-only work)."""
    identity: TokenCheck
    """The presented token, checked (``identity.ok``, ``identity.name``, ``identity.role``)."""
    raw: Request = field(repr=False)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


Handler = Callable[[HttpRequest], Response | Awaitable[Response]]


@dataclass(frozen=True)
class Route:
    prefix: str
    handler: Handler
    role: Role | None


_routes: dict[str, Route] = {}


def register_route(prefix: str, handler: Handler, *, role: Role | None = Role.RESEARCHER) -> None:
    """Serve GETs whose path starts with ``prefix`` with ``handler``.

    ``role``: the token role required (researcher by default), or ``None`` for a public page.
    Registering a prefix again replaces the earlier handler.
    """
    if not prefix.startswith("/"):
        raise ValueError(f"route prefix {prefix!r} must start with '/'")
    _routes[prefix] = Route(prefix, handler, role)


def routes() -> list[Route]:
    return sorted(_routes.values(), key=lambda route: route.prefix)


def respond(
    status: int, body: str | bytes, content_type: str = "text/plain; charset=utf-8"
) -> Response:
    """A complete HTTP response; ``body`` text is sent as UTF-8."""
    from http import HTTPStatus

    payload = body.encode("utf-8") if isinstance(body, str) else body
    headers = Headers()
    headers["Content-Type"] = content_type
    headers["Content-Length"] = str(len(payload))
    headers["Cache-Control"] = "no-store"
    return Response(status, HTTPStatus(status).phrase, headers, payload)


def respond_json(status: int, value: Any) -> Response:
    return respond(status, json.dumps(value), "application/json")


def bearer_token(headers: Headers) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header, or None."""
    value = headers.get("Authorization")
    if value is None:
        return None
    scheme, _, token = value.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def unauthorized(check: TokenCheck) -> Response:
    """401 with a body that says whether the token was missing, unknown or revoked."""
    response = respond(401, f"{check.status} token\n")
    response.headers["WWW-Authenticate"] = 'Bearer realm="edittrace"'
    return response


async def dispatch(request: Request, db: sqlite_utils.Database, db_path: Path) -> Response:
    """Answer a plain HTTP GET through the route table (404 when no route matches)."""
    parts = urlsplit(request.path)
    query = parse_qs(parts.query)
    matches = [route for route in _routes.values() if parts.path.startswith(route.prefix)]
    if not matches:
        known = ", ".join(route.prefix for route in routes()) or "none"
        return respond(404, f"not found: {parts.path}\nroutes: /v1/stream (websocket), {known}\n")
    route = max(matches, key=lambda route: len(route.prefix))
    token = bearer_token(request.headers) or next(iter(query.get("token", [])), None)
    identity = verify_token(db, token)
    if route.role is not None:
        if not identity.ok:
            return unauthorized(identity)
        if identity.role is not route.role:
            return respond(403, f"this page needs a {route.role} token\n")
    handled = route.handler(
        HttpRequest(parts.path, query, request.headers, db_path, identity, request)
    )
    if inspect.isawaitable(handled):
        return await handled
    return handled


def _health(request: HttpRequest) -> Response:
    return respond(200, "ok\n")


register_route("/v1/health", _health, role=None)
