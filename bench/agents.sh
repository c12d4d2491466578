#!/usr/bin/env bash
# The agent loop's own cost per step (responses over an instant model, state in SQLite).
#   bench/agents.sh
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/lib.sh"
java --enable-native-access=ALL-UNNAMED ${BENCH_JAVA_OPTS:-} -cp "$(bench_classpath)" io.corral.agents.AgentLoopBench
