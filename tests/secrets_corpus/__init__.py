"""A corpus of realistic secret formats in code, and of ordinary code that holds none.

``positives.txt`` holds code contexts in several languages; each names a format and has one
``{{SECRET}}`` slot. The secret values are generated here with the right shapes (prefixes,
alphabets, lengths) from a seeded generator, so the repository holds no real-looking keys
that scanners would flag, and every run tests the same values. ``negatives/`` holds ordinary
source files: any character masked there is a false positive.

Used by tests/test_capture_secrets.py, tests/test_capture_masking.py and bench/secrets_recall.py.
"""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
SLOT = "{{SECRET}}"

ALNUM = string.ascii_letters + string.digits
UPPER_ALNUM = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"
B64 = string.ascii_letters + string.digits + "+/"
URLSAFE = string.ascii_letters + string.digits + "-_"


@dataclass(frozen=True)
class Sample:
    format: str
    language: str
    text: str
    """The code with the secret in place."""
    secret: str
    start: int
    """Where the secret starts in ``text``."""

    @property
    def end(self) -> int:
        return self.start + len(self.secret)


def _pick(rng: random.Random, alphabet: str, length: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _jwt(rng: random.Random) -> str:
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"sub": str(rng.randrange(10**9)), "name": "Ann Lee", "iat": 1700000000}
    payload = _b64url(json.dumps(claims).encode())
    return f"{header}.{payload}.{_b64url(rng.randbytes(32))}"


def _pem(kind: str) -> Callable[[random.Random], str]:
    def make(rng: random.Random) -> str:
        body = base64.b64encode(rng.randbytes(300)).decode()  # short: it is typed key by key
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        return "\n".join([f"-----BEGIN {kind}-----", *lines, f"-----END {kind}-----"])

    return make


def _password(rng: random.Random) -> str:
    words = ["correct", "horse", "battery", "staple", "Summer", "winter", "dragon", "Monkey"]
    digits = str(rng.randrange(10, 9999))
    return rng.choice(words) + rng.choice(words).capitalize() + digits + rng.choice("!#%&*@")


GENERATORS: dict[str, Callable[[random.Random], str]] = {
    "aws_access_key_id": lambda r: r.choice(["AKIA", "ASIA"]) + _pick(r, UPPER_ALNUM, 16),
    "aws_secret_access_key": lambda r: _pick(r, B64, 40),
    "github_token": lambda r: (
        r.choice(["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]) + _pick(r, ALNUM, 36)
    ),
    "github_pat": lambda r: "github_pat_" + _pick(r, ALNUM, 22) + "_" + _pick(r, ALNUM, 59),
    "gitlab_token": lambda r: "glpat-" + _pick(r, URLSAFE, 20),
    "slack_token": lambda r: (
        r.choice(["xoxb-", "xoxp-", "xoxa-", "xoxr-"])
        + _pick(r, string.digits, 12)
        + "-"
        + _pick(r, string.digits, 13)
        + "-"
        + _pick(r, ALNUM, 24)
    ),
    "stripe_key": lambda r: r.choice(["sk_live_", "rk_live_"]) + _pick(r, ALNUM, 24),
    "openai_key": lambda r: r.choice(["sk-", "sk-proj-"]) + _pick(r, URLSAFE, 48),
    "anthropic_key": lambda r: "sk-ant-api03-" + _pick(r, URLSAFE, 93) + "AA",
    "google_api_key": lambda r: "AIza" + _pick(r, URLSAFE, 35),
    "twilio_key": lambda r: "SK" + _pick(r, HEX, 32),
    "sendgrid_key": lambda r: "SG." + _pick(r, URLSAFE, 22) + "." + _pick(r, URLSAFE, 43),
    "npm_token": lambda r: "npm_" + _pick(r, ALNUM, 36),
    "pypi_token": lambda r: "pypi-AgEIcHlwaS5vcmc" + _pick(r, URLSAFE, 70),
    "jwt": _jwt,
    "private_key_rsa": _pem("RSA PRIVATE KEY"),
    "private_key_openssh": _pem("OPENSSH PRIVATE KEY"),
    "private_key_pkcs8": _pem("PRIVATE KEY"),
    "password_assignment": _password,
    "secret_assignment": lambda r: _pick(r, ALNUM, r.randrange(12, 33)),
    "connection_string": _password,
    "high_entropy": lambda r: _pick(r, ALNUM, 40),
}


def positives(seed: int = 20261122) -> list[Sample]:
    """Every context of positives.txt with a freshly generated secret of its format."""
    rng = random.Random(seed)
    samples: list[Sample] = []
    for block in (HERE / "positives.txt").read_text().split("\n=== ")[1:]:
        header, _, body = block.partition("\n")
        fmt, language = header.split()
        secret = GENERATORS[fmt](rng)
        body = body.rstrip("\n") + "\n"
        start = body.index(SLOT)
        samples.append(Sample(fmt, language, body.replace(SLOT, secret), secret, start))
    return samples


def negatives() -> list[tuple[str, str]]:
    """``(file name, text)`` of ordinary code that holds no secret."""
    return [(path.name, path.read_text()) for path in sorted((HERE / "negatives").iterdir())]
