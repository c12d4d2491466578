#!/usr/bin/env bash
# The long crash loop: `corral serve` killed with SIGKILL 50 times (or $1) while a client writes conversation items and
# stored responses, in SQLite and in PostgreSQL; after every restart each acknowledged write must be there, once
# (CrashLoopTest; the build kills 3 times per store).
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
source "$root/scripts/env.sh"
cd "$root"
mvn -o -q -B install -DskipTests
cd corral-it
mvn -o -B surefire:test -Dtest=CrashLoopTest -Dcorral.crash.kills="${1:-50}" | grep -E "CrashLoopTest|Tests run|FAIL|BUILD"
