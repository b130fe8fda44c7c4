"""Which documents may be captured at all: inside a workspace folder, matching
``capture.include``, not matching ``capture.exclude``, and not ignored by the repository's
``.gitignore`` files. Pure: the server reads the ``.gitignore`` files and passes their text.

Globs are gitwildmatch patterns relative to the workspace folder (``*.py`` matches at any
depth, ``src/**`` only under ``src``); an empty include list means every file.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from urllib.parse import unquote, urlparse

import pathspec

_NEVER_CAPTURED = (".git",)
"""Directory names never captured whatever the globs say (git's own files)."""


def uri_to_path(uri_or_path: str) -> str | None:
    """A normalised POSIX-style absolute path for a ``file:`` URI or a plain path.

    Other URI schemes (``untitled:``, ``git:``, notebook cells) have no path: ``None``.
    Windows drive letters are lower-cased, as editors spell them both ways.
    """
    if "://" in uri_or_path or uri_or_path.startswith(("file:", "untitled:")):
        parsed = urlparse(uri_or_path)
        if parsed.scheme != "file":
            return None
        path = unquote(parsed.path)
        if parsed.netloc and parsed.netloc != "localhost":
            path = f"//{parsed.netloc}{path}"
    else:
        path = uri_or_path.replace("\\", "/")
    if len(path) >= 3 and path[0] == "/" and path[2] == ":" and path[1].isalpha():
        path = path[1:]  # "/c:/x" (from a URI) and "c:/x" are the same place
    if len(path) >= 2 and path[1] == ":" and path[0].isalpha():
        path = "/" + path[0].lower() + path[1:]
    if not path.startswith("/"):
        return None
    normalised = posixpath.normpath(path)
    return "//" + normalised.lstrip("/") if path.startswith("//") else normalised


class Scope:
    """Decides ``allows(uri)``; answers are cached, as each document asks once per open."""

    def __init__(
        self,
        workspace_folders: Sequence[str],
        include: Sequence[str],
        exclude: Sequence[str],
        gitignores: Mapping[str, str] = {},
    ) -> None:
        """``gitignores`` maps a directory to the text of its ``.gitignore``.

        A key is a ``file:`` URI or an absolute path, or a path relative to the workspace
        folder ("" for the folder itself, ``src/sub`` for a nested one); a relative key
        applies under every workspace folder.
        """
        self._folders = [path for path in map(uri_to_path, workspace_folders) if path]
        self._include = pathspec.GitIgnoreSpec.from_lines(include) if include else None
        self._exclude = pathspec.GitIgnoreSpec.from_lines(exclude)
        self._absolute_ignores: dict[str, pathspec.GitIgnoreSpec] = {}
        self._relative_ignores: dict[str, pathspec.GitIgnoreSpec] = {}
        for directory, text in gitignores.items():
            spec = pathspec.GitIgnoreSpec.from_lines(text.splitlines())
            looks_absolute = directory.startswith(("file:", "/")) or directory[1:2] == ":"
            absolute = uri_to_path(directory) if looks_absolute else None
            if absolute is not None:
                self._absolute_ignores[absolute] = spec
            else:
                relative = posixpath.normpath(directory.replace("\\", "/").strip("/") or ".")
                self._relative_ignores["" if relative == "." else relative] = spec
        self._cache: dict[str, bool] = {}

    def allows(self, uri: str) -> bool:
        """True when the document at ``uri`` may be captured."""
        known = self._cache.get(uri)
        if known is None:
            known = self._decide(uri)
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[uri] = known
        return known

    def _decide(self, uri: str) -> bool:
        path = uri_to_path(uri)
        if path is None:
            return False
        for folder in self._folders:
            if path != folder and path.startswith(folder.rstrip("/") + "/"):
                relative = path[len(folder.rstrip("/")) + 1 :]
                return self._allows_relative(folder, relative)
        return False

    def _allows_relative(self, folder: str, relative: str) -> bool:
        parts = relative.split("/")
        if any(part in _NEVER_CAPTURED for part in parts[:-1]):
            return False
        if self._include is not None and not self._include.match_file(relative):
            return False
        if self._exclude.match_file(relative):
            return False
        # git never looks inside an ignored directory, so a file under one stays ignored
        # whatever a deeper .gitignore says: check each enclosing directory first.
        for depth in range(1, len(parts)):
            if self._ignored(folder, parts[:depth], is_directory=True):
                return False
        return not self._ignored(folder, parts, is_directory=False)

    def _ignored(self, folder: str, parts: list[str], *, is_directory: bool) -> bool:
        """The verdict of the deepest .gitignore that has an opinion on this path."""
        verdict: bool | None = None
        for depth in range(len(parts)):
            base = "/".join(parts[:depth])
            below = "/".join(parts[depth:]) + ("/" if is_directory else "")
            for spec in self._specs_for(folder, base):
                result = spec.check_file(below)
                if result.include is not None:
                    verdict = result.include
        return bool(verdict)

    def _specs_for(self, folder: str, base: str) -> list[pathspec.GitIgnoreSpec]:
        specs = []
        relative = self._relative_ignores.get(base)
        if relative is not None:
            specs.append(relative)
        absolute = self._absolute_ignores.get(posixpath.join(folder, base) if base else folder)
        if absolute is not None:
            specs.append(absolute)
        return specs
