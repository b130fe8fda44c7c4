"""Finding secrets in text: provider keys, private keys, credentials in assignments, entropy.

``find_secrets(text)`` returns the character spans that must never leave the machine.
It errs on the side of masking: a masked identifier costs a researcher a few characters,
a leaked key costs the contractor far more. What is and is not detected, and why, is in
docs/privacy.md; recall and false positives are measured by tests/test_capture_secrets.py
over tests/secrets_corpus/.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

Span = tuple[int, int]
"""``(start, end)`` character offsets into the scanned text, end exclusive."""


@dataclass(frozen=True)
class Finding:
    """One detected secret: where it is and which rule found it."""

    start: int
    end: int
    kind: str


# Provider tokens with a recognisable shape. The whole match is the secret.
_TOKEN_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        (
            "aws_access_key_id",
            r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|A3T[A-Z0-9])[A-Z0-9]{16}\b",
        ),
        ("github_token", r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,255}\b"),
        ("github_pat", r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b"),
        ("gitlab_token", r"\bglpat-[A-Za-z0-9_\-]{20,}"),
        ("slack_token", r"\bxox[abposr]-(?:[A-Za-z0-9]+-?){2,}[A-Za-z0-9]*"),
        ("slack_webhook", r"https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9/_\-]+"),
        ("stripe_key", r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"),
        ("stripe_webhook_secret", r"\bwhsec_[A-Za-z0-9]{24,}"),
        ("anthropic_key", r"\bsk-ant-[A-Za-z0-9_\-]{20,}"),
        ("openai_key", r"\bsk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_\-]{20,}"),
        ("google_api_key", r"\bAIza[0-9A-Za-z_\-]{35}"),
        ("google_oauth_secret", r"\bGOCSPX-[A-Za-z0-9_\-]{20,}"),
        ("twilio_key", r"\b(?:SK|AC)[0-9a-fA-F]{32}\b"),
        ("sendgrid_key", r"\bSG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}"),
        ("npm_token", r"\bnpm_[A-Za-z0-9]{36}\b"),
        ("pypi_token", r"\bpypi-[A-Za-z0-9_\-]{50,}"),
        ("huggingface_token", r"\bhf_[A-Za-z0-9]{30,}\b"),
        # A JWT header and its dot already say "token", before the rest is typed.
        ("jwt", r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]*)?"),
        ("bearer_token", r"(?i)(?<=\bbearer )[A-Za-z0-9._~+/\-]{12,}=*"),
    )
)

# A URL or DSN with a password: scheme://user:PASSWORD@host. Only the password is masked.
_CONNECTION_STRING = re.compile(
    r"\b[a-zA-Z][a-zA-Z0-9+.\-]{1,30}://[^\s:/@'\"`]*:(?P<value>[^\s@'\"`/]+)@"
)

# Key names that say "the value is a credential". Bare ``key`` is too common in code.
_SECRET_NAME = (
    r"(?<![A-Za-z0-9_.\-])[A-Za-z0-9_.\-]*(?:"
    r"passw(?:or)?d|passphrase|_pass\b|\bpass\b|\bpwd|secret|token|credential"
    r"|api[_\-.]?key|apikey|access[_\-.]?key|private[_\-.]?key|signing[_\-.]?key"
    r"|encryption[_\-.]?key|master[_\-.]?key|client[_\-.]?key|auth[_\-.]?key|account[_\-.]?key"
    r"|app[_\-.]?key|service[_\-.]?key|license[_\-.]?key|_KEY\b|\bauth\b|authorization"
    r"|connection[_\-.]?string|dsn"
    r")[A-Za-z0-9_.\-]*"
)

# ``NAME <sep> "value"`` in code, JSON, YAML, TOML, .env, INI, shell, Go (:=), PHP/Ruby (=>).
_QUOTED_ASSIGNMENT = re.compile(
    r"(?i)(?P<name>" + _SECRET_NAME + r")[\"'`]?\]?\s*(?::=|=>|\?=|\+=|==|=|:)\s*"
    r"(?:(?:SecretStr|SecretString|Secret|String|str|b)\()?\s*"  # a wrapper such as SecretStr(
    r"(?P<q>\"|'|`)(?P<value>[^\"'`\r\n]{3,})(?P=q)"
)
# ``setProperty("password", "value")``, ``headers.put("X-Api-Key", "value")``, tuples.
_PAIR_ARGUMENT = re.compile(
    r"(?i)[\"'](?P<name>" + _SECRET_NAME + r")[\"']\s*,\s*"
    r"(?P<q>\"|')(?P<value>[^\"'\r\n]{3,})(?P=q)"
)
_BARE_ASSIGNMENT = re.compile(
    r"(?i)(?P<name>" + _SECRET_NAME + r")\s*(?P<sep>:=|=(?!=)|:(?!:))[ \t]*"
    r"(?P<value>[^\s\"'`,;(){}\[\]<>:][^\s\"'`,;(){}\[\]<>]{3,})(?P<after>[^\r\n]?)"
)
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?[A-Z][A-Z0-9_]*\s*=", re.MULTILINE)

# Words that, after ``password:`` or ``token =``, mean code rather than a literal value.
_CODE_WORDS = frozenset(
    {
        "none",
        "null",
        "nil",
        "true",
        "false",
        "undefined",
        "str",
        "string",
        "bytes",
        "int",
        "integer",
        "bool",
        "boolean",
        "float",
        "any",
        "object",
        "optional",
        "secretstr",
        "self",
        "this",
        "env",
        "os",
        "process",
        "config",
        "settings",
        "required",
        "yes",
        "no",
        "on",
        "off",
        "password",
        "token",
        "secret",
    }
)
_IDENTIFIER_PATH = re.compile(r"^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$")

_PEM_BEGIN = re.compile(r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")
_PEM_END = re.compile(r"-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")
_PEM_BODY_LINE = re.compile(r"^[\s\"'`,+\\]*[A-Za-z0-9+/=:\-., \\]*[\"'`,+\\n\s]*$")

# High-entropy candidates: runs of base64 / url-safe base64 characters, and of hex digits.
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_\-]{20,}={0,2}")
_HEX_RUN = re.compile(r"\b[0-9a-fA-F]{32,}\b")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
BASE64_ENTROPY_BITS = 4.0
"""Shannon entropy (bits per character) above which a base64-like run is a secret."""
HEX_ENTROPY_BITS = 3.0
"""Hex runs are a smaller alphabet (at most 4 bits per character)."""


def shannon_entropy(text: str) -> float:
    """Bits per character of ``text``'s own character distribution."""
    if not text:
        return 0.0
    length = len(text)
    return -sum(n / length * math.log2(n / length) for n in Counter(text).values())


def find_secrets(text: str) -> list[Finding]:
    """Every secret in ``text``, as spans in its characters (they may overlap)."""
    findings: list[Finding] = []
    for kind, pattern in _TOKEN_RULES:
        markers = _MARKERS.get(kind)
        if markers is None or any(marker in text for marker in markers):
            findings.extend(Finding(m.start(), m.end(), kind) for m in pattern.finditer(text))
    findings.extend(_private_keys(text))
    if "://" in text:
        for match in _CONNECTION_STRING.finditer(text):
            start, end = match.start("value"), match.end("value")
            findings.append(Finding(start, end, "connection_string"))
    env_lines = {m.start() for m in _ENV_LINE.finditer(text)} if "=" in text else set()
    # The assignment patterns are the slow ones: run them only on lines naming a secret.
    for low, high in _lines_naming_secrets(text):
        for pattern in (_QUOTED_ASSIGNMENT, _PAIR_ARGUMENT):
            for match in pattern.finditer(text, low, high):
                if not _placeholder(match.group("value")):
                    start, end = match.start("value"), match.end("value")
                    findings.append(Finding(start, end, "assignment"))
        for match in _BARE_ASSIGNMENT.finditer(text, low, high):
            if _bare_value_is_secret(text, match, env_lines):
                findings.append(Finding(match.start("value"), match.end("value"), "assignment"))
    findings.extend(_high_entropy(text))
    return findings


# Literal pieces without which a token rule cannot match: a substring test is far cheaper.
_MARKERS: dict[str, tuple[str, ...]] = {
    "aws_access_key_id": ("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA", "A3T"),
    "github_token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    "github_pat": ("github_pat_",),
    "gitlab_token": ("glpat-",),
    "slack_token": ("xox",),
    "slack_webhook": ("hooks.slack.com",),
    "stripe_key": ("_live_", "_test_"),
    "stripe_webhook_secret": ("whsec_",),
    "anthropic_key": ("sk-ant-",),
    "openai_key": ("sk-",),
    "google_api_key": ("AIza",),
    "google_oauth_secret": ("GOCSPX-",),
    "sendgrid_key": ("SG.",),
    "npm_token": ("npm_",),
    "pypi_token": ("pypi-",),
    "huggingface_token": ("hf_",),
    "jwt": ("eyJ",),
}
_NAME_HINT = re.compile(
    r"(?i)pass|pwd|secret|token|credential|key|auth|dsn|connection[_\-.]?string"
)


def _lines_naming_secrets(text: str) -> list[Span]:
    """Spans of the lines (each with the next line) where a secret-looking name occurs."""
    spans: list[Span] = []
    for hint in _NAME_HINT.finditer(text):
        if spans and hint.start() < spans[-1][1]:
            continue
        low = text.rfind("\n", 0, hint.start()) + 1
        newline = text.find("\n", hint.end())
        after = text.find("\n", newline + 1) if newline >= 0 else -1
        high = len(text) if after < 0 else after
        if spans and low <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(high, spans[-1][1]))
        else:
            spans.append((low, high))
    return spans


def secret_spans(text: str) -> list[Span]:
    """The merged spans of every secret in ``text``, sorted."""
    return merge_spans((f.start, f.end) for f in find_secrets(text))


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _placeholder(value: str) -> bool:
    """Values that are clearly not secrets: empty-ish, templated, or references to env vars."""
    stripped = value.strip()
    if len(stripped) < 3:
        return True
    if stripped.startswith(("${", "{{", "%(", "<", "$")) and stripped.endswith(("}", ")", ">")):
        return True
    if any(mark in stripped for mark in ("${", "{{", "#{")):
        return True  # a template such as `Bearer ${token}`: the secret is elsewhere
    return stripped.lower() in _CODE_WORDS


def _bare_value_is_secret(text: str, match: re.Match[str], env_lines: set[int]) -> bool:
    """An unquoted value is a literal in .env/YAML/INI, but an expression in code."""
    value = match.group("value")
    after = match.group("after")
    if value.isdigit() and len(value) < 16:
        return False  # a number: a timeout, a port, a size
    line_start = text.rfind("\n", 0, match.start()) + 1
    if line_start in env_lines and match.group("sep") == "=":
        return not value.startswith("$")  # KEY=value in .env or shell: always a literal
    if after in {"(", "[", "."} or value.lower() in _CODE_WORDS or value.startswith("$"):
        return False
    if value.endswith((")", ",")):
        return False
    # ``token = self.token`` or ``password: str`` is code; ``password: hunter2`` is not.
    if _IDENTIFIER_PATH.match(value) and ("." in value or not any(c.isdigit() for c in value)):
        return match.group("sep") == ":" and value[0].islower() and "." not in value
    return True


def _private_keys(text: str) -> list[Finding]:
    """Whole PEM/PGP private key blocks, including an unterminated block being typed."""
    findings: list[Finding] = []
    position = 0
    while (begin := _PEM_BEGIN.search(text, position)) is not None:
        end = _PEM_END.search(text, begin.end())
        next_begin = _PEM_BEGIN.search(text, begin.end())
        if end is not None and (next_begin is None or end.start() < next_begin.start()):
            stop = end.end()
        else:
            stop = _unterminated_block_end(text, begin.end())
        findings.append(Finding(begin.start(), stop, "private_key"))
        position = max(stop, begin.end())
    return findings


def _unterminated_block_end(text: str, body_start: int) -> int:
    """Up to the first line that cannot be part of a key body (or the end of the text)."""
    stop = body_start
    line_start = body_start
    while line_start < len(text):
        line_end = text.find("\n", line_start)
        if line_end < 0:
            line_end = len(text)
        line = text[line_start:line_end]
        if line.strip() and not _PEM_BODY_LINE.match(line):
            break
        stop = line_end
        line_start = line_end + 1
    return stop


def _high_entropy(text: str) -> list[Finding]:
    findings: list[Finding] = []
    for match in _BASE64_RUN.finditer(text):
        run = match.group()
        if _looks_random_base64(run):
            findings.append(Finding(match.start(), match.end(), "high_entropy"))
    for match in _HEX_RUN.finditer(text):
        if shannon_entropy(match.group()) >= HEX_ENTROPY_BITS:
            findings.append(Finding(match.start(), match.end(), "high_entropy_hex"))
    return findings


def _looks_random_base64(run: str) -> bool:
    """Random keys mix digits and letters of both cases; identifiers and paths do not."""
    core = run.rstrip("=")
    if _UUID.match(core):
        return False
    digits = sum(c.isdigit() for c in core)
    uppers = sum(c.isupper() for c in core)
    lowers = sum(c.islower() for c in core)
    if digits == 0 or lowers + uppers == 0:
        return False
    if "/" in core and all(part.isidentifier() or part == "" for part in core.split("/")):
        return False  # a path such as src/pkg/module_2/file
    if uppers == 0 or lowers == 0:
        # One-case runs (snake_case_names_2, CONSTANT_NAMES_1) need a lot of digits to count.
        return digits >= len(core) // 4 and shannon_entropy(core) >= BASE64_ENTROPY_BITS - 0.3
    return shannon_entropy(core) >= BASE64_ENTROPY_BITS
