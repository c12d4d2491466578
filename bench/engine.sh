#!/usr/bin/env bash
# In-process engine speed vs native llama.cpp (llama-bench, when on the PATH) on a Llama-3.2-1B-shaped
# model with random weights.   bench/engine.sh [q4_0|q8_0] [threads] [reps]
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
source "$root/scripts/env.sh"
type=${1:-q4_0}; threads=${2:-$(nproc)}; reps=${3:-3}
"$root/build" package
cp="$root/bench/target/classes:$root/corral-cli/target/corral.jar"  # the CLI jar carries the engine
model="$root/bench/.models/llama-3.2-1b-shape-$type.gguf"
if [[ ! -f "$model" ]]; then
  mkdir -p "$(dirname "$model")"
  echo "writing $model" >&2
  java -cp "$cp" io.corral.bench.SyntheticModel "$model" "$type"
fi
java --enable-native-access=ALL-UNNAMED -cp "$cp" io.corral.bench.EngineBench "$model" "$threads" 512 128 "$reps"
