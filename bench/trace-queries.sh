#!/usr/bin/env bash
# The built-in trace store's queries over a store filled with one-token chats' spans (33,000 requests: ~100,000 spans).
#   bench/trace-queries.sh [requests]
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/lib.sh"
cp="$(bench_classpath)"
java --enable-native-access=ALL-UNNAMED -cp "$cp" io.corral.telemetry.TraceQueryBench "${1:-33000}"
