#!/usr/bin/env bash
# Documents per second of the in-process embeddings (all-MiniLM-L6-v2) on the Cranfield abstracts.
#   bench/embeddings.sh [documents per request] [runs]
# Runs on corral-onnx's own class path: with the bench module's whole class path, ONNX Runtime's environment
# crashed the JVM here (SIGSEGV in OrtEnvironment.createHandle; see the issue's note).
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/lib.sh"
bench_classpath >/dev/null
(cd "$root/corral-onnx" && mvn -q -B dependency:build-classpath -Dmdep.outputFile="$root/bench/target/onnx-classpath.txt") >&2
java --enable-native-access=ALL-UNNAMED -cp "$root/corral-onnx/target/classes:$(cat "$root/bench/target/onnx-classpath.txt"):$root/bench/target/classes" \
  io.corral.onnx.EmbeddingBench "$root/../shared/data/ir/cranfield/corpus.jsonl" "${1:-64}" "${2:-3}"
