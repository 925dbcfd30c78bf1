#!/usr/bin/env bash
# Install the Debian packages the browser test (tests/deploy/test_browser.py) needs:
# Chromium, driven headless by Playwright-python through executable_path=/usr/bin/chromium.
# Idempotent: exits 0 at once when Chromium is already installed. Needs root (or sudo) to install.
set -euo pipefail

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

if [ -x "$CHROMIUM" ]; then
    echo "install-browser-deps: $CHROMIUM already installed ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-browser-deps: $CHROMIUM is missing and apt-get is not available;" \
         "install Chromium with your system's package manager" >&2
    exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-browser-deps: need root (or sudo) to apt-get install chromium" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium fonts-liberation
echo "install-browser-deps: installed $("$CHROMIUM" --version)"
