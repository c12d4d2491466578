#!/usr/bin/env bash
# The in-process engine's prompt cache: copying a cached prefix into another stream of the KV cache, against reading
# the same tokens again, in one run.
#   bench/stream-copy.sh [tokens] [rounds]   (the Q4_0 model that bench/engine.sh writes; defaults 1000 9)
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/lib.sh"
cp="$(corral_classpath)"
model="$(synthetic_model q4_0 "$cp")"
java --enable-native-access=ALL-UNNAMED -cp "$cp" io.corral.bench.StreamCopyBench "$model" "${1:-1000}" "${2:-9}" 2>&1 \
  | grep -v '^llama\|^load\|^print_info\|^\.'
