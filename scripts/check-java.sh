#!/usr/bin/env bash
# Check for the JVM that the sandbox's Glue Spark (glueetl) runs need: PySpark 3.5 runs on Java 17.
# Exits 0 when `java` (or $JAVA_HOME/bin/java) is 17 or newer. Otherwise it says how to get one and,
# as root with apt-get (as in CI), installs Debian's openjdk-17-jre-headless (or the newest JRE
# Debian has). Exits 1 with the instructions when it cannot.
set -euo pipefail

java_bin() {
    if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then echo "$JAVA_HOME/bin/java"; return; fi
    command -v java || true
}

java_major() {
    "$1" -version 2>&1 | sed -n 's/.* version "\([0-9]*\)[."].*/\1/p' | head -1
}

JAVA="$(java_bin)"
if [ -n "$JAVA" ]; then
    MAJOR="$(java_major "$JAVA")"
    if [ -n "$MAJOR" ] && [ "$MAJOR" -ge 17 ]; then
        echo "check-java: $JAVA is Java $MAJOR (Glue Spark runs need 17 or newer)"
        exit 0
    fi
    echo "check-java: $JAVA is Java ${MAJOR:-of unknown version}; Glue Spark runs need Java 17 or newer" >&2
fi

HOWTO="install a Java 17+ runtime (Debian/Ubuntu: apt-get install openjdk-17-jre-headless; macOS: brew install openjdk@17) and put it on PATH or set JAVA_HOME"
if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" -ne 0 ]; then
    echo "check-java: no Java 17+ found: $HOWTO" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
PACKAGE=""
for candidate in openjdk-17-jre-headless openjdk-21-jre-headless default-jre-headless; do
    if apt-cache show "$candidate" >/dev/null 2>&1; then PACKAGE="$candidate"; break; fi
done
if [ -z "$PACKAGE" ]; then
    echo "check-java: no Java runtime package found with apt-get: $HOWTO" >&2
    exit 1
fi
apt-get install -y --no-install-recommends "$PACKAGE"
JAVA="$(java_bin)"
echo "check-java: installed $PACKAGE: $JAVA is Java $(java_major "$JAVA")"
