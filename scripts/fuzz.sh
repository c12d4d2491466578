#!/usr/bin/env bash
# Fuzzes every JSON route of a whole in-process `corral serve` for 30 minutes (ApiFuzzTest#routesLong; the build's own
# run is 60 s). The corpus grows in corral-cli/.cifuzz-corpus; Jazzer writes a finding as crash-<sha1> into
# corral-cli/src/test/resources/io/corral/cli/ApiFuzzTestInputs/ (the request that broke the rule is in the test's
# report). Once fixed, commit it: every build replays those inputs; add the request to theFuzzersFindings_stayFixed too,
# since an input's meaning follows the route table.
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
source "$root/scripts/env.sh"
cd "$root"
mvn -o -q -B install -DskipTests
cd corral-cli
JAZZER_FUZZ=1 mvn -o -B surefire:test -Dtest='ApiFuzzTest#routesLong'
