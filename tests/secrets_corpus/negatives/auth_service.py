"""User authentication: password hashing, session tokens and login throttling."""

from __future__ import annotations

import getpass
import hashlib
import hmac
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_CONFIG_PATH = Path("/etc/myapp/config.yaml")
SESSION_COOKIE_NAME = "session_id"
MAX_LOGIN_ATTEMPTS_PER_MINUTE = 5
REQUEST_ID = uuid.UUID("0f8fad5b-d9cb-469f-a165-70867728950e")


@dataclass
class Credentials:
    username: str
    password: str
    remember_me: bool = False
    scopes: list[str] = field(default_factory=list)


def hash_password(password: str, salt: bytes | None = None) -> tuple[bytes, bytes]:
    salt = salt or os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 600_000)
    return salt, digest


def verify_password(password: str, salt: bytes, expected: bytes) -> bool:
    _, digest = hash_password(password, salt)
    return hmac.compare_digest(digest, expected)


def read_credentials() -> Credentials:
    username = input("Username: ")
    password = getpass.getpass("Password: ")
    return Credentials(username=username, password=password)


def bearer_token(headers: dict[str, str]) -> str | None:
    token = headers.get("Authorization", "")
    if not token.startswith("Bearer "):
        return None
    return token.removeprefix("Bearer ")


class LoginThrottle:
    def __init__(self, limit_per_minute: int = MAX_LOGIN_ATTEMPTS_PER_MINUTE) -> None:
        self.limit_per_minute = limit_per_minute
        self.attempts_by_username: dict[str, list[float]] = {}

    def allow(self, username: str, now: float) -> bool:
        recent = [t for t in self.attempts_by_username.get(username, []) if now - t < 60]
        self.attempts_by_username[username] = [*recent, now]
        return len(recent) < self.limit_per_minute


def reset_link(user_id: int, base_url: str = "https://example.com/account/reset") -> str:
    token = uuid.uuid4().hex
    return f"{base_url}?user={user_id}&token={token}"
