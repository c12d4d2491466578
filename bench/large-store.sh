#!/usr/bin/env bash
# The embedded vector store at scale: synthetic chunks (1M by default), then search latency per mode.
#   bench/large-store.sh [chunks]
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/lib.sh"
java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -Xmx8g ${BENCH_JAVA_OPTS:-} \
  -cp "$(bench_classpath)" io.corral.retrieval.LargeStoreBench "${1:-1000000}"
