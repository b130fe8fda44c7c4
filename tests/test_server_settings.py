"""Settings: defaults, nesting, env fallbacks, and a clear word for every bad value."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from edittrace.server.settings import (
    ENV_COLLECTOR_URL,
    ENV_TOKEN,
    Settings,
    parse_settings,
    setting_keys,
)

DOC = Path(__file__).parent.parent / "docs" / "settings.md"


def test_defaults_when_the_editor_sends_nothing() -> None:
    settings, problems = parse_settings(None, env={})
    assert problems == []
    assert settings == Settings()
    assert settings.provider.name == "builtin"
    assert settings.capture.persistence_checkpoints_s == (30, 120, 300, 600)
    assert settings.capture.enabled is True
    assert settings.collector.url is None
    assert settings.outbox.path.name == "outbox.sqlite3"


@pytest.mark.parametrize("wrap", [True, False], ids=["wrapped", "bare"])
def test_nested_keys_wrapped_or_bare(wrap: bool) -> None:
    body = {
        "collector": {"url": "ws://127.0.0.1:9/v1/stream", "token": "tok"},
        "provider": {"name": "openai", "openai": {"model": "m", "timeoutMs": 250}},
        "capture": {
            "include": ["*.py"],
            "exclude": ["secret/**"],
            "persistenceCheckpoints": [2, 1, 2],
            "enabled": False,
        },
        "outbox": {"path": "~/x/outbox.db", "holdBackSeconds": 1},
    }
    settings, problems = parse_settings({"edittrace": body} if wrap else body, env={})
    assert problems == []
    assert settings.collector.url == "ws://127.0.0.1:9/v1/stream"
    assert settings.collector.token == "tok"
    assert settings.provider.name == "openai"
    assert settings.provider.openai.model == "m"
    assert settings.provider.openai.timeout_ms == 250
    assert settings.capture.include == ("*.py",)
    assert settings.capture.exclude == ("secret/**",)
    assert settings.capture.persistence_checkpoints_s == (1, 2)
    assert settings.capture.enabled is False
    assert settings.outbox.path == Path.home() / "x" / "outbox.db"
    assert settings.outbox.hold_back_s == 1.0


def test_empty_strings_mean_unset() -> None:
    settings, problems = parse_settings(
        {"outbox": {"path": ""}, "provider": {"openai": {"url": ""}}, "collector": {"url": ""}},
        env={},
    )
    assert problems == []
    assert settings == Settings()


def test_dotted_keys_are_accepted_too() -> None:
    settings, problems = parse_settings({"collector.url": "wss://c.example/v1/stream"}, env={})
    assert problems == []
    assert settings.collector.url == "wss://c.example/v1/stream"


def test_environment_fills_in_only_what_settings_leave_empty() -> None:
    env = {ENV_COLLECTOR_URL: "ws://127.0.0.1:1/v1/stream", ENV_TOKEN: "from-env"}
    settings, _ = parse_settings({}, env=env)
    assert settings.collector.url == "ws://127.0.0.1:1/v1/stream"
    assert settings.collector.token == "from-env"
    settings, _ = parse_settings(
        {"collector": {"url": "ws://127.0.0.1:2/v1/stream", "token": "mine"}}, env=env
    )
    assert settings.collector.url == "ws://127.0.0.1:2/v1/stream"
    assert settings.collector.token == "mine"
    settings, _ = parse_settings({"collector": {"url": "", "token": " "}}, env=env)
    assert settings.collector.token == "from-env"


@pytest.mark.parametrize(
    ("body", "key", "why"),
    [
        ({"collector": {"url": "http://x"}}, "collector.url", "ws or wss URL"),
        ({"provider": {"name": "gpt"}}, "provider.name", "one of builtin, openai"),
        ({"provider": {"openai": {"timeoutMs": 0}}}, "provider.openai.timeoutMs", "from 1"),
        ({"provider": {"openai": {"maxTokens": "9"}}}, "provider.openai.maxTokens", "whole"),
        ({"capture": {"persistenceCheckpoints": [30, -1]}}, "capture.persistenceCheckpoints", ""),
        ({"capture": {"persistenceCheckpoints": "30"}}, "capture.persistenceCheckpoints", ""),
        ({"capture": {"include": "*.py"}}, "capture.include", "list of glob"),
        ({"capture": {"enabled": "yes"}}, "capture.enabled", "true or false"),
        ({"outbox": {"holdBackSeconds": -1}}, "outbox.holdBackSeconds", "from 0"),
        ({"outbox": {"path": 5}}, "outbox.path", "expected a string"),
        ({"provider": {"arms": [{"name": "only"}]}}, "provider.arms", "two or more"),
        ({"provider": {"arms": [{"name": "a"}, {"name": "a"}]}}, "provider.arms", "differ"),
        (
            {"provider": {"arms": [{"name": "a"}, {"name": "b", "provider": "x"}]}},
            "provider.arms[1].provider",
            "one of",
        ),
    ],
)
def test_a_bad_value_falls_back_and_names_the_key(
    body: dict[str, object], key: str, why: str
) -> None:
    settings, problems = parse_settings(body, env={})
    assert [problem.key for problem in problems] == [key]
    message = problems[0].message()
    assert key in message and why in message
    # Only the bad key fell back; the rest parsed.
    defaults = Settings()
    if key == "capture.persistenceCheckpoints":
        assert settings.capture == defaults.capture
    if key == "provider.arms":
        assert settings.provider.arms == ()
    if key == "provider.arms[1].provider":
        assert [arm.provider for arm in settings.provider.arms] == ["builtin", "builtin"]


def test_arms_inherit_the_openai_endpoint_and_keep_their_order() -> None:
    settings, problems = parse_settings(
        {
            "provider": {
                "openai": {"url": "http://127.0.0.1:5/v1", "model": "base"},
                "arms": [
                    {"name": "small", "provider": "openai", "openai": {"model": "s"}},
                    {"name": "local", "provider": "builtin"},
                ],
            }
        },
        env={},
    )
    assert problems == []
    small, local = settings.provider.arms
    assert (small.name, small.provider, small.openai.model) == ("small", "openai", "s")
    assert small.openai.url == "http://127.0.0.1:5/v1"
    assert (local.name, local.provider) == ("local", "builtin")


def test_public_settings_never_carry_the_token() -> None:
    settings, _ = parse_settings({"collector": {"token": "very-secret-token"}}, env={})
    assert "very-secret-token" not in repr(settings.public())
    assert settings.public()["collector"]["token"] == "set"


def test_every_setting_is_documented() -> None:
    text = DOC.read_text()
    missing = [key for key in setting_keys() if f"`{key}`" not in text]
    assert missing == [], f"not in docs/settings.md: {missing}"
    documented = set(re.findall(r"^\| `([a-zA-Z.\[\]]+)`", text, flags=re.M))
    assert documented <= set(setting_keys()), documented - set(setting_keys())
