#!/usr/bin/env bash
# Creates .venv (if missing) and installs edittrace into it, editable, with the dev tools.
# Sourced by serve.sh and test.sh; safe to run again: it only installs what changed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip setuptools wheel
fi
# Editable: edits and new modules show at once, from any directory.
.venv/bin/python -m pip install --quiet --disable-pip-version-check \
    -e ".[${EDITTRACE_EXTRAS:-dev}]"
