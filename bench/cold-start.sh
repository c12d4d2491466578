#!/usr/bin/env bash
# Load on demand: a cold request's first-token time against load time + a warm request's, through the server's stack.
#   bench/cold-start.sh [rounds]   (uses the Q4_0 model that bench/engine.sh writes)
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
source "$root/scripts/env.sh"
"$root/build" package
cp="$root/bench/target/classes:$root/corral-cli/target/corral.jar"
model="$root/bench/.models/llama-3.2-1b-shape-q4_0.gguf"
[[ -f "$model" ]] || java -cp "$cp" io.corral.bench.SyntheticModel "$model" q4_0
java --enable-native-access=ALL-UNNAMED -cp "$cp" io.corral.bench.ColdStartBench "$model" "${1:-5}"
