#!/usr/bin/env bash
# Install npm's asl-validator, pinned, into .tools/ (not committed) for tests/asl/test_asl_validator.py,
# which runs it on every committed and golden state machine definition.
# Idempotent: exits 0 at once when that version is already there. Needs npm (Node.js).
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION="${ASL_VALIDATOR_VERSION:-4.0.0}"
PREFIX="${ASL_VALIDATOR_PREFIX:-.tools}"
BIN="$PREFIX/node_modules/.bin/asl-validator"

if [ -x "$BIN" ] && [ "$("$BIN" --version 2>/dev/null)" = "$VERSION" ]; then
    echo "install-asl-validator: asl-validator $VERSION already installed in $PREFIX/"
    exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
    echo "install-asl-validator: npm is missing; install Node.js with npm (e.g. apt-get install npm)," \
         "then run 'make asl-validator-deps' (tests/asl/test_asl_validator.py needs $BIN)" >&2
    exit 1
fi

mkdir -p "$PREFIX"
npm install --prefix "$PREFIX" --save-exact --no-audit --no-fund "asl-validator@$VERSION"
echo "install-asl-validator: installed asl-validator $("$BIN" --version) in $PREFIX/"
