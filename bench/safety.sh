#!/usr/bin/env bash
# Safety: the rules shield's latency on a 4 KB message, and a streamed in-process generation read plain and
# through the output guardrail (rules shield), alternated in one run.
#   bench/safety.sh [model.gguf]
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/lib.sh"
java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
  ${BENCH_JAVA_OPTS:-} -cp "$(bench_classpath)" io.corral.safety.SafetyBench "${1:-$root/../shared/models/stories260K.gguf}"
