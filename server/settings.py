"""The server's settings: typed, defaulted, frozen, parsed once from what the editor sends.

Editors send settings in ``initializationOptions`` and ``workspace/didChangeConfiguration``,
either wrapped (``{"edittrace": {...}}``) or bare (``{...}``), nested the way VS Code's
``getConfiguration("edittrace")`` gives them (``{"collector": {"url": ...}}``); dotted keys
(``{"collector.url": ...}``) are accepted too. A value that does not fit falls back to its
default and leaves a ``SettingProblem`` naming the key and the reason, which the server
shows the user. Every key is documented in docs/settings.md (a test checks it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import platformdirs

ProviderName = Literal["builtin", "openai"]
PROVIDER_NAMES: tuple[ProviderName, ...] = ("builtin", "openai")

ENV_COLLECTOR_URL = "EDITTRACE_COLLECTOR_URL"
ENV_TOKEN = "EDITTRACE_TOKEN"

T = TypeVar("T")


@dataclass(frozen=True)
class OpenAISettings:
    """An OpenAI-compatible ``/v1/completions`` endpoint with fill-in-the-middle."""

    url: str = "http://127.0.0.1:8000/v1"
    model: str = ""
    api_key_env: str = "OPENAI_API_KEY"
    timeout_ms: int = 5_000
    max_tokens: int = 64
    temperature: float = 0.2


@dataclass(frozen=True)
class BuiltinSettings:
    """Bounds of the offline model's reading of the workspace at start."""

    max_files: int = 5_000
    max_bytes: int = 4_000_000
    max_file_bytes: int = 500_000


@dataclass(frozen=True)
class ArmSettings:
    """One arm of a blind comparison: a provider with its own configuration and a label."""

    name: str
    provider: ProviderName = "builtin"
    openai: OpenAISettings = field(default_factory=OpenAISettings)


@dataclass(frozen=True)
class ProviderSettings:
    name: ProviderName = "builtin"
    openai: OpenAISettings = field(default_factory=OpenAISettings)
    builtin: BuiltinSettings = field(default_factory=BuiltinSettings)
    arms: tuple[ArmSettings, ...] = ()
    """Two or more arms turn on blind comparison; empty means ``name`` alone serves."""


@dataclass(frozen=True)
class CollectorSettings:
    url: str | None = None
    token: str | None = None


@dataclass(frozen=True)
class CaptureConfig:
    """What is recorded; mirrors ``edittrace.capture.CaptureSettings`` plus scope and switch."""

    enabled: bool = True
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    persistence_checkpoints_s: tuple[int, ...] = (30, 120, 300, 600)
    snapshot_every_changes: int = 200
    snapshot_every_s: int = 60
    max_document_chars: int = 2_000_000
    context_chars: int = 2_000
    accept_grace_ms: int = 1_000


def default_outbox_path() -> Path:
    return Path(platformdirs.user_data_dir("edittrace", appauthor=False)) / "outbox.sqlite3"


@dataclass(frozen=True)
class OutboxSettings:
    path: Path = field(default_factory=default_outbox_path)
    hold_back_s: float = 10.0


@dataclass(frozen=True)
class RatingsSettings:
    code_lens: bool = True


@dataclass(frozen=True)
class Settings:
    collector: CollectorSettings = field(default_factory=CollectorSettings)
    provider: ProviderSettings = field(default_factory=ProviderSettings)
    capture: CaptureConfig = field(default_factory=CaptureConfig)
    outbox: OutboxSettings = field(default_factory=OutboxSettings)
    ratings: RatingsSettings = field(default_factory=RatingsSettings)

    def public(self) -> dict[str, Any]:
        """What goes into ``session.start``: everything but the token and API key values."""
        data = asdict(self)
        data["collector"]["token"] = "set" if self.collector.token else None
        data["outbox"]["path"] = str(self.outbox.path)
        return data


@dataclass(frozen=True)
class SettingProblem:
    key: str
    reason: str

    def message(self) -> str:
        return f"edittrace setting {self.key}: {self.reason}"


@dataclass
class _Reader:
    """Reads dotted keys from a flat map, recording every key read and every problem."""

    flat: Mapping[str, Any]
    problems: list[SettingProblem] = field(default_factory=list)
    read: list[str] = field(default_factory=list)

    def get(
        self,
        key: str,
        default: T,
        check: Callable[[Any], T],
    ) -> T:
        self.read.append(key)
        if key not in self.flat or self.flat[key] is None:
            return default
        try:
            return check(self.flat[key])
        except ValueError as error:
            self.problems.append(SettingProblem(key, f"{error}; using the default {default!r}"))
            return default


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {value!r:.60}")
    return value


def _optional_string(value: Any) -> str | None:
    return _string(value).strip() or None


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r:.60}")
    return value


def _integer(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            raise ValueError(f"expected a whole number, got {value!r:.60}")
        if not low <= value <= high:
            raise ValueError(f"expected a number from {low} to {high}, got {value!r}")
        return int(value)

    return check


def _number(low: float, high: float) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"expected a number, got {value!r:.60}")
        if not low <= value <= high:
            raise ValueError(f"expected a number from {low} to {high}, got {value!r}")
        return float(value)

    return check


def _provider_name(value: Any) -> ProviderName:
    for name in PROVIDER_NAMES:
        if value == name:
            return name
    raise ValueError(f"expected one of {', '.join(PROVIDER_NAMES)}, got {value!r:.60}")


def _url(schemes: tuple[str, ...]) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        text = _optional_string(value)
        if text is not None and not text.startswith(tuple(f"{s}://" for s in schemes)):
            raise ValueError(f"expected a {' or '.join(schemes)} URL, got {text!r:.80}")
        return text

    return check


def _patterns(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"expected a list of glob patterns (strings), got {value!r:.60}")
    return tuple(value)


def _checkpoints(value: Any) -> tuple[int, ...]:
    if (
        not isinstance(value, list | tuple)
        or not value
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    ):
        raise ValueError(f"expected a non-empty list of positive whole seconds, got {value!r:.60}")
    return tuple(sorted(set(value)))


def _path(value: Any) -> Path | None:
    text = _string(value).strip()
    return Path(os.path.expanduser(text)) if text else None


def _openai(reader: _Reader, prefix: str, base: OpenAISettings) -> OpenAISettings:
    base_url: str | None = base.url
    return OpenAISettings(
        url=reader.get(f"{prefix}.url", base_url, _url(("http", "https"))) or base.url,
        model=reader.get(f"{prefix}.model", base.model, _string),
        api_key_env=reader.get(f"{prefix}.apiKeyEnv", base.api_key_env, _string),
        timeout_ms=reader.get(f"{prefix}.timeoutMs", base.timeout_ms, _integer(1, 600_000)),
        max_tokens=reader.get(f"{prefix}.maxTokens", base.max_tokens, _integer(1, 8_192)),
        temperature=reader.get(f"{prefix}.temperature", base.temperature, _number(0.0, 2.0)),
    )


def _arms(reader: _Reader, openai: OpenAISettings) -> tuple[ArmSettings, ...]:
    key = "provider.arms"
    reader.read.append(key)
    raw = reader.flat.get(key)
    if raw is None or raw == []:
        return ()
    problem = None
    if not isinstance(raw, list) or not all(isinstance(arm, Mapping) for arm in raw):
        problem = "expected a list of arm maps {name, provider, openai}"
    elif len(raw) < 2:
        problem = "a comparison needs two or more arms"
    if problem is not None:
        reader.problems.append(SettingProblem(key, f"{problem}; comparison is off"))
        return ()
    arms = []
    for index, arm in enumerate(raw):
        # Each arm is read with its own reader so its problems name the arm's own keys.
        sub = _Reader(dict(_flatten(arm, f"{key}[{index}]")))
        name = sub.get(f"{key}[{index}].name", f"arm{index + 1}", _string).strip()
        builtin: ProviderName = "builtin"
        provider = sub.get(f"{key}[{index}].provider", builtin, _provider_name)
        arm_openai = _openai(sub, f"{key}[{index}].openai", openai)
        reader.problems.extend(sub.problems)
        arms.append(
            ArmSettings(name=name or f"arm{index + 1}", provider=provider, openai=arm_openai)
        )
    names = [arm.name for arm in arms]
    if len(set(names)) != len(names):
        reader.problems.append(
            SettingProblem(key, f"arm names must differ, got {names}; comparison is off")
        )
        return ()
    return tuple(arms)


def _flatten(value: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Nested maps to dotted keys; lists and other values are leaves."""
    for key, item in value.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(item, Mapping) and item:
            yield from _flatten(item, dotted)
        else:
            yield dotted, item


def _unwrap(raw: Any) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        return {}
    inner = raw.get("edittrace")
    if isinstance(inner, Mapping):
        return inner
    return raw


def parse_settings(
    raw: Any, env: Mapping[str, str] | None = None
) -> tuple[Settings, list[SettingProblem]]:
    """Settings from an editor's payload; problems name each key that fell back and why."""
    settings, reader = _parse(raw, os.environ if env is None else env)
    return settings, reader.problems


def _parse(raw: Any, env: Mapping[str, str]) -> tuple[Settings, _Reader]:
    reader = _Reader(dict(_flatten(_unwrap(raw))))
    base_capture = CaptureConfig()
    base_builtin = BuiltinSettings()
    openai = _openai(reader, "provider.openai", OpenAISettings())
    settings = Settings(
        collector=CollectorSettings(
            url=reader.get("collector.url", None, _url(("ws", "wss")))
            or _url(("ws", "wss"))(env.get(ENV_COLLECTOR_URL, "")),
            token=reader.get("collector.token", None, _optional_string)
            or _optional_string(env.get(ENV_TOKEN, "")),
        ),
        provider=ProviderSettings(
            name=reader.get("provider.name", "builtin", _provider_name),
            openai=openai,
            builtin=BuiltinSettings(
                max_files=reader.get(
                    "provider.builtin.maxFiles", base_builtin.max_files, _integer(0, 1_000_000)
                ),
                max_bytes=reader.get(
                    "provider.builtin.maxBytes", base_builtin.max_bytes, _integer(0, 1 << 32)
                ),
                max_file_bytes=reader.get(
                    "provider.builtin.maxFileBytes",
                    base_builtin.max_file_bytes,
                    _integer(0, 1 << 30),
                ),
            ),
            arms=_arms(reader, openai),
        ),
        capture=CaptureConfig(
            enabled=reader.get("capture.enabled", True, _boolean),
            include=reader.get("capture.include", base_capture.include, _patterns),
            exclude=reader.get("capture.exclude", base_capture.exclude, _patterns),
            persistence_checkpoints_s=reader.get(
                "capture.persistenceCheckpoints",
                base_capture.persistence_checkpoints_s,
                _checkpoints,
            ),
            snapshot_every_changes=reader.get(
                "capture.snapshotEveryChanges",
                base_capture.snapshot_every_changes,
                _integer(1, 1_000_000),
            ),
            snapshot_every_s=reader.get(
                "capture.snapshotEverySeconds", base_capture.snapshot_every_s, _integer(1, 86_400)
            ),
            max_document_chars=reader.get(
                "capture.maxDocumentChars",
                base_capture.max_document_chars,
                _integer(1, 1_000_000_000),
            ),
            context_chars=reader.get(
                "capture.contextChars", base_capture.context_chars, _integer(0, 1_000_000)
            ),
            accept_grace_ms=reader.get(
                "capture.acceptGraceMs", base_capture.accept_grace_ms, _integer(0, 60_000)
            ),
        ),
        outbox=OutboxSettings(
            path=reader.get("outbox.path", None, _path) or default_outbox_path(),
            hold_back_s=reader.get("outbox.holdBackSeconds", 10.0, _number(0.0, 3_600.0)),
        ),
        ratings=RatingsSettings(code_lens=reader.get("ratings.codeLens", True, _boolean)),
    )
    return settings, reader


def setting_keys() -> list[str]:
    """Every key, dotted, as documented in docs/settings.md (each arm's keys as ``arms[]``)."""
    _, reader = _parse({}, {})
    arm_keys = ["provider.arms[].name", "provider.arms[].provider", "provider.arms[].openai"]
    return sorted({*reader.read, *arm_keys})
