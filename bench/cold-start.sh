#!/usr/bin/env bash
# Load on demand: a cold request's first-token time against load time + a warm request's, through the server's stack.
#   bench/cold-start.sh [rounds]   (the Q4_0 model that bench/engine.sh writes)
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/lib.sh"
cp="$(corral_classpath)"
model="$(synthetic_model q4_0 "$cp")"
java --enable-native-access=ALL-UNNAMED -cp "$cp" io.corral.bench.ColdStartBench "$model" "${1:-5}"
