#!/usr/bin/env bash
# Retrieval through the HTTP API on Cranfield: the embedding model's own chunks/s, ingestion's, nDCG@10 per
# search mode, and the API's search latency against the same search made directly. All in one run.
#   bench/retrieval.sh
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/lib.sh"
java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow --add-modules jdk.incubator.vector -Xss2m \
  ${BENCH_JAVA_OPTS:-} -cp "$(bench_classpath)" io.corral.retrieval.RetrievalBench "$root/../shared/data/ir/cranfield"
