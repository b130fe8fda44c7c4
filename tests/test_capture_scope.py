"""Scope: only files inside the workspace, matching the globs and not git-ignored."""

from __future__ import annotations

from edittrace.capture.scope import Scope, uri_to_path

ROOT = "file:///home/ann/project"


def test_only_files_inside_a_workspace_folder() -> None:
    scope = Scope([ROOT], include=[], exclude=[])
    assert scope.allows(f"{ROOT}/src/app.py")
    assert not scope.allows("file:///home/ann/other/app.py")
    assert not scope.allows("file:///home/ann/project-two/app.py")
    assert not scope.allows("untitled:Untitled-1")
    assert not scope.allows(f"{ROOT}/.git/COMMIT_EDITMSG")


def test_include_and_exclude_globs() -> None:
    scope = Scope([ROOT], include=["*.py", "docs/**"], exclude=["**/migrations/**", "secret*"])
    assert scope.allows(f"{ROOT}/a/b/c.py")
    assert scope.allows(f"{ROOT}/docs/intro.md")
    assert not scope.allows(f"{ROOT}/README.md")
    assert not scope.allows(f"{ROOT}/app/migrations/0001.py")
    assert not scope.allows(f"{ROOT}/secret_keys.py")


def test_gitignore_rules_with_negation_and_nested_files() -> None:
    scope = Scope(
        [ROOT],
        include=[],
        exclude=[],
        gitignores={
            "": "build/\n*.log\n!keep.log\n",
            "src": "generated_*.py\n",
            "build": "!wanted.py\n",
        },
    )
    assert scope.allows(f"{ROOT}/src/app.py")
    assert not scope.allows(f"{ROOT}/src/generated_api.py")
    assert scope.allows(f"{ROOT}/generated_api.py")  # the src/.gitignore applies only below src
    assert not scope.allows(f"{ROOT}/logs/run.log")
    assert scope.allows(f"{ROOT}/logs/keep.log")
    # git never reads inside an ignored directory: a deeper negation cannot bring a file back
    assert not scope.allows(f"{ROOT}/build/wanted.py")


def test_gitignore_keys_may_be_absolute_paths_or_uris() -> None:
    scope = Scope(
        ["/home/ann/project", "file:///home/ann/lib"],
        include=[],
        exclude=[],
        gitignores={"/home/ann/project/sub": "*.tmp\n", "file:///home/ann/lib": "vendor/\n"},
    )
    assert not scope.allows(f"{ROOT}/sub/x.tmp")
    assert scope.allows(f"{ROOT}/x.tmp")
    assert not scope.allows("file:///home/ann/lib/vendor/dep.py")
    assert scope.allows("file:///home/ann/lib/main.py")


def test_uris_are_compared_as_paths() -> None:
    assert uri_to_path("file:///c%3A/Users/Ann/x.py") == "/c:/Users/Ann/x.py"
    assert uri_to_path("file:///C:/Users/Ann/x.py") == "/c:/Users/Ann/x.py"
    assert uri_to_path("C:\\Users\\Ann\\x.py") == "/c:/Users/Ann/x.py"
    assert uri_to_path("file:///home/ann/a%20b/../c.py") == "/home/ann/c.py"
    assert uri_to_path("git:/home/ann/x.py?ref") is None
    windows = Scope(["file:///c%3A/work"], include=[], exclude=[])
    assert windows.allows("file:///C:/work/main.py")
