#!/usr/bin/env bash
# Installs everything the tests need and runs every check: ruff, mypy, pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install.sh
for setup in scripts/setup.d/*.sh; do
    [ -e "$setup" ] && bash "$setup"
done
.venv/bin/ruff check .
.venv/bin/ruff format --check .
bash scripts/typecheck.sh
# pytest exits 5 when it collects nothing: with `set -e` that fails the run, as it should.
.venv/bin/pytest "$@"
