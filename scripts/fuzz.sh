#!/usr/bin/env bash
# Fuzzes every JSON route of a whole in-process `corral serve` for 30 minutes (ApiFuzzTest#routesLong; the build's own
# run is 60 s). The corpus grows in corral-cli/.cifuzz-corpus; a finding is written to corral-cli/crash-<sha1> with the
# request that broke the rule in the test's report (move it under
# corral-cli/src/test/resources/io/corral/cli/ApiFuzzTestInputs/routes/ once fixed, and it is replayed by every build).
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
source "$root/scripts/env.sh"
cd "$root"
mvn -o -q -B install -DskipTests
cd corral-cli
JAZZER_FUZZ=1 mvn -o -B surefire:test -Dtest='ApiFuzzTest#routesLong'
