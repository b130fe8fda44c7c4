"""Access tokens: created once, stored only as a sha256 hash, compared in constant time.

A token's name is the identity everything else records (``events.contractor``,
``sessions.contractor``). Revoking keeps the row, so a name is never reused for
someone else and stored data keeps pointing at the right person.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

import sqlite_utils


class Role(StrEnum):
    CONTRACTOR = "contractor"
    """Streams events from an editor (``/v1/stream``)."""
    RESEARCHER = "researcher"
    """Reads: the replay viewer and other researcher HTTP routes."""


class TokenError(Exception):
    """A token command that cannot be done, with a message for the person who asked."""


@dataclass(frozen=True)
class TokenInfo:
    """A token as ``token list`` shows it: never the token itself."""

    name: str
    role: Role
    created: int
    revoked: int | None


@dataclass(frozen=True)
class TokenCheck:
    """The answer to a presented token: ``status`` is ok, missing, unknown or revoked."""

    status: str
    name: str | None = None
    role: Role | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now_ms() -> int:
    return int(time.time() * 1000)


def create_token(db: sqlite_utils.Database, name: str, role: Role = Role.CONTRACTOR) -> str:
    """Create a token named ``name`` and return it; only its hash is stored."""
    if not name or len(name) > 200 or not name.isprintable() or name.strip() != name:
        raise TokenError(f"token name {name!r} must be 1-200 printable characters")
    token = secrets.token_urlsafe(32)
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        if conn.execute("SELECT 1 FROM tokens WHERE name = ?", (name,)).fetchone():
            raise TokenError(
                f"a token named {name!r} already exists (revoked names are kept); pick another"
            )
        conn.execute(
            "INSERT INTO tokens (name, token_hash, role, created, revoked) "
            "VALUES (?, ?, ?, ?, NULL)",
            (name, hash_token(token), str(role), _now_ms()),
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return token


def list_tokens(db: sqlite_utils.Database) -> list[TokenInfo]:
    rows = db.conn.execute(
        "SELECT name, role, created, revoked FROM tokens ORDER BY created, name"
    ).fetchall()
    return [TokenInfo(name, Role(role), created, revoked) for name, role, created, revoked in rows]


def count_tokens(db: sqlite_utils.Database) -> int:
    return int(db.conn.execute("SELECT count(*) FROM tokens").fetchone()[0])


def revoke_token(db: sqlite_utils.Database, name: str) -> bool:
    """Revoke ``name``; False if it was already revoked. Raises TokenError if unknown."""
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute("SELECT revoked FROM tokens WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise TokenError(f"no token named {name!r}; see `edittrace collector token list`")
        if row[0] is None:
            conn.execute("UPDATE tokens SET revoked = ? WHERE name = ?", (_now_ms(), name))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return row[0] is None


def verify_token(db: sqlite_utils.Database, token: str | None) -> TokenCheck:
    """Who holds ``token``: compares hashes with ``hmac.compare_digest`` over every row.

    Scanning every row (instead of an indexed lookup by hash) keeps the time taken from
    depending on how much of a guessed hash matches a stored one.
    """
    if not token:
        return TokenCheck("missing")
    presented = hash_token(token)
    found: TokenCheck = TokenCheck("unknown")
    for name, token_hash, role, revoked in db.conn.execute(
        "SELECT name, token_hash, role, revoked FROM tokens"
    ):
        if hmac.compare_digest(presented, token_hash):
            found = TokenCheck("revoked" if revoked is not None else "ok", name, Role(role))
    return found
