"""The extension's manifest agrees with the server and the docs (no VS Code needed).

Settings contributed in extension-bridge/package.json must be exactly the server's keys with
the server's defaults, so what VS Code sends parses without a single problem; every command,
setting and keybinding is documented in docs/vscode.md.
"""

from __future__ import annotations

import json
from typing import Any

from edittrace.server.settings import parse_settings, setting_keys
from tests.e2e.vscode import REPO

MANIFEST = json.loads((REPO / "extension-bridge" / "package.json").read_text())
DOC = (REPO / "docs" / "vscode.md").read_text()
PROPERTIES: dict[str, dict[str, Any]] = MANIFEST["contributes"]["configuration"]["properties"]
EXTENSION_ONLY = {"edittrace.python.interpreterPath"}


def server_keys() -> set[str]:
    # The arms' own keys live inside the `provider.arms` array's item schema.
    return {key for key in setting_keys() if "[]" not in key}


def test_every_server_setting_is_contributed_and_nothing_else() -> None:
    contributed = {key.removeprefix("edittrace.") for key in PROPERTIES} - {
        key.removeprefix("edittrace.") for key in EXTENSION_ONLY
    }
    assert contributed == server_keys()


def test_the_contributed_defaults_are_the_servers() -> None:
    # What VS Code sends when nothing is set: every default, nested; the extension leaves out
    # empty strings ("use the server's default").
    nested: dict[str, Any] = {}
    for key, schema in PROPERTIES.items():
        if key in EXTENSION_ONLY or schema["default"] == "":
            continue
        *parents, leaf = key.removeprefix("edittrace.").split(".")
        node = nested
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = schema["default"]
    sent, problems = parse_settings({"edittrace": nested}, env={})
    assert problems == []
    assert sent == parse_settings({}, env={})[0]


def test_arms_items_name_the_servers_arm_keys() -> None:
    item = PROPERTIES["edittrace.provider.arms"]["items"]["properties"]
    arm_keys = {key.split("[].")[1] for key in setting_keys() if "[]." in key}
    assert set(item) == arm_keys


def test_commands_settings_and_keys_are_documented() -> None:
    commands = {command["command"] for command in MANIFEST["contributes"]["commands"]}
    missing = sorted(name for name in [*commands, *PROPERTIES] if f"`{name}`" not in DOC)
    assert missing == []
    for binding in MANIFEST["contributes"]["keybindings"]:
        assert binding["command"] in commands
    assert "edittrace.bridge.accepted" in DOC


def test_the_proposal_is_declared() -> None:
    assert MANIFEST["enabledApiProposals"] == ["inlineCompletionsAdditions"]
    assert MANIFEST["main"] == "./dist/extension.js"
