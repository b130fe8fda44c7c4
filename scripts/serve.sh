#!/usr/bin/env bash
# Installs edittrace and starts a collector on a local SQLite file, printing how an
# editor connects. Usage: scripts/serve.sh [extra options for `edittrace collector serve`]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install.sh
mkdir -p data
exec .venv/bin/edittrace collector serve --db data/collector.sqlite "$@"
