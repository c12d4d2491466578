#!/usr/bin/env bash
# The built-in trace store's write cost per span with random and with time-ordered span and trace ids, alternated.
#   bench/trace-store.sh [requests a round] [rounds]
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/lib.sh"
cp="$(bench_classpath)"
java --enable-native-access=ALL-UNNAMED -cp "$cp" io.corral.telemetry.TraceStoreBench "${1:-100000}" "${2:-3}"
