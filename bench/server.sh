#!/usr/bin/env bash
# The server's own overhead: req/s and p50/p99 for /v1/models and a one-token chat, 1/16/64 clients.
#   bench/server.sh [seconds per scenario]
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
source "$root/scripts/env.sh"
"$root/build" package
port=18432
java --enable-native-access=ALL-UNNAMED -Xmx512m -jar "$root/corral-cli/target/corral.jar" serve --port $port \
  --max-queued 128 --parallel 2 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/v1/health" >/dev/null && break; sleep 0.2; done
java -cp "$root/bench/target/classes" io.corral.bench.ServerBench "http://127.0.0.1:$port" "${1:-5}"
echo "server heap after the run: $(jcmd $server GC.heap_info 2>/dev/null | grep -m1 -oE 'used [0-9]+K')"
