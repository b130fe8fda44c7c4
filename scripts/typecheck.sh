#!/usr/bin/env bash
# mypy cannot follow setuptools' editable finder, so it reads the packages through a tree of
# directory links that mirrors the import names: build/typecheck/edittrace/protocol -> protocol/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
tree=build/typecheck/edittrace
mkdir -p "$tree"
for package in cli protocol capture server collector; do
    ln -sfn "../../../$package" "$tree/$package"
done
MYPYPATH=build/typecheck exec .venv/bin/mypy \
    -p edittrace.cli -p edittrace.protocol -p edittrace.capture -p edittrace.server \
    -p edittrace.collector -p tests -p bench "$@"
