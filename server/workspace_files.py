"""Reading the workspace from disk, bounded: .gitignore files for the scope, sources for
the builtin model. Runs at start-up (gitignores) or in a background thread (sources)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from edittrace.capture.scope import uri_to_path

_SKIPPED_DIRECTORIES = frozenset(
    {"node_modules", "__pycache__", "venv", "site-packages", "dist", "target", "build"}
)
"""Heavy directories nobody types in; hidden ones (.git, .venv, caches) are skipped too."""


def folder_paths(workspace_folders: Sequence[str]) -> list[str]:
    return [path for path in map(uri_to_path, workspace_folders) if path and os.path.isdir(path)]


def _walk(
    folders: Sequence[str], deadline: float, max_directories: int
) -> Iterator[tuple[str, list[str]]]:
    seen = 0
    for folder in folders:
        for directory, subdirectories, files in os.walk(folder):
            subdirectories[:] = sorted(
                name
                for name in subdirectories
                if not name.startswith(".") and name not in _SKIPPED_DIRECTORIES
            )
            seen += 1
            if seen > max_directories or time.monotonic() > deadline:
                return
            yield directory, sorted(files)


def read_gitignores(
    workspace_folders: Sequence[str], budget_s: float = 1.0, max_directories: int = 20_000
) -> dict[str, str]:
    """Absolute directory path -> text of its ``.gitignore``, for ``Scope``."""
    found: dict[str, str] = {}
    deadline = time.monotonic() + budget_s
    for directory, files in _walk(folder_paths(workspace_folders), deadline, max_directories):
        if ".gitignore" in files:
            try:
                found[directory] = Path(directory, ".gitignore").read_text(errors="replace")
            except OSError:
                continue
    return found


def read_sources(
    workspace_folders: Sequence[str],
    allows: Callable[[str], bool],
    *,
    max_files: int,
    max_bytes: int,
    max_file_bytes: int,
    budget_s: float = 30.0,
) -> Iterator[str]:
    """Texts of the workspace's text files that ``allows(uri)``, within the bounds."""
    files_read = 0
    bytes_read = 0
    deadline = time.monotonic() + budget_s
    for directory, files in _walk(folder_paths(workspace_folders), deadline, 100_000):
        for name in files:
            if files_read >= max_files or bytes_read >= max_bytes:
                return
            path = Path(directory, name)
            try:
                size = path.stat().st_size
                if size == 0 or size > max_file_bytes or not allows(path.as_uri()):
                    continue
                data = path.read_bytes()
            except OSError:
                continue
            if b"\0" in data[:4096]:
                continue  # binary
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                continue
            files_read += 1
            bytes_read += len(data)
            yield text
