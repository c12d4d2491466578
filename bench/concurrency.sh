#!/usr/bin/env bash
# Aggregate speed of concurrent requests on one model, in-process: batched lanes against one lane.
#   bench/concurrency.sh [streams] [tokens] [rounds]   (the Q4_0 model that bench/engine.sh writes)
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/lib.sh"
cp="$(corral_classpath)"
model="$(synthetic_model q4_0 "$cp")"
java --enable-native-access=ALL-UNNAMED -cp "$cp" io.corral.bench.ConcurrencyBench "$model" "${1:-4}" "${2:-32}" "${3:-3}"
