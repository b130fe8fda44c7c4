#!/usr/bin/env bash
# Installs what the replay tests need, only when missing:
#   Debian: tmux (the terminal player is driven through it), chromium (the web viewer's test)
#   npm:    playwright-core into ${EDITTRACE_CACHE:-$HOME/.cache/edittrace}/pw, shared with
#           50-vscode.sh (same folder, same ".installed" stamp written after a good install);
#           never `playwright install`: Debian's /usr/bin/chromium is the browser.
set -euo pipefail
CACHE="${EDITTRACE_CACHE:-$HOME/.cache/edittrace}"
say() { printf '20-replay: %s\n' "$*"; }

missing=()
for pkg in tmux chromium; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    say "installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -f "$CACHE/pw/.installed" ]; then
    say "installing playwright-core into $CACHE/pw"
    mkdir -p "$CACHE/pw"
    npm install --silent --no-save --prefix "$CACHE/pw" playwright-core
    touch "$CACHE/pw/.installed"
fi
