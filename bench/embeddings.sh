#!/usr/bin/env bash
# Documents per second of the in-process embeddings (all-MiniLM-L6-v2) on the Cranfield abstracts.
#   bench/embeddings.sh [documents per request] [runs]
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/lib.sh"
java --enable-native-access=ALL-UNNAMED -cp "$(bench_classpath)" io.corral.onnx.EmbeddingBench "$root/../shared/data/ir/cranfield/corpus.jsonl" "${1:-64}" "${2:-3}"
