#!/usr/bin/env bash
# In-process engine speed vs native llama.cpp (llama-bench, when on the PATH) on a Llama-3.2-1B-shaped
# model with random weights.   bench/engine.sh [q4_0|q8_0] [threads] [reps]
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/lib.sh"
type=${1:-q4_0}; threads=${2:-$(nproc)}; reps=${3:-3}
cp="$(corral_classpath)"
model="$(synthetic_model "$type" "$cp")"
java --enable-native-access=ALL-UNNAMED -cp "$cp" io.corral.bench.EngineBench "$model" "$threads" 512 128 "$reps"
