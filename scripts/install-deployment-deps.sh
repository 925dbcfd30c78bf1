#!/usr/bin/env bash
# Install the Debian packages the deployment suite (tests/deploy/test_deployment.py, marker
# `deployment`) needs: PostgreSQL (Airflow's metadata database and Celery's result backend) and
# Redis (Celery's broker), the servers docker-compose.yaml runs as containers. The suite starts
# them itself, as processes on loopback, in a folder of its own; nothing is started here.
# Idempotent: exits 0 at once when both are installed. Needs root (or sudo) to install.
set -euo pipefail

pg_bin() {
    # Debian keeps the server binaries out of PATH, under /usr/lib/postgresql/<major>/bin.
    local found
    found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [ -n "$found" ] && [ -x "$found/initdb" ] && [ -x "$found/postgres" ]; then
        echo "$found"
    elif command -v initdb >/dev/null 2>&1 && command -v postgres >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
    fi
}

missing=()
[ -n "$(pg_bin)" ] || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)

if [ "${#missing[@]}" -eq 0 ]; then
    echo "install-deployment-deps: PostgreSQL ($(pg_bin)) and Redis ($(redis-server --version | cut -d' ' -f3)) already installed"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deployment-deps: ${missing[*]} missing and apt-get is not available;" \
         "install PostgreSQL 13+ and Redis 6+ with your system's package manager" >&2
    exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-deployment-deps: need root (or sudo) to apt-get install ${missing[*]}" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
# Debian's packages start their servers where an init system runs; the suite starts its own.
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
echo "install-deployment-deps: installed ${missing[*]} (PostgreSQL in $(pg_bin))"
