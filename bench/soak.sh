#!/usr/bin/env bash
# Soak: CLIENTS concurrent clients (mixed streamed chat, embeddings, search, responses) against `corral serve` for
# SECONDS, reporting errors, p99 latency, RSS, file descriptors and threads every 30 s, heap after GC at the ends.
#   bench/soak.sh [clients=200] [seconds=600] [warmup=60]
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/lib.sh"
cp="$(corral_classpath)"
clients=${1:-200}; seconds=${2:-600}; warmup=${3:-60}
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Dcorral.cache="$dir/cache" -cp "$cp" \
  io.corral.cli.CorralCli serve --port "$port" --parallel 8 --max-queued 1024 --health-interval 0 > "$dir/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 300); do curl -sf -o /dev/null "http://127.0.0.1:$port/v1/health" && break; sleep 0.2; done
java -cp "$cp" io.corral.bench.SoakBench "http://127.0.0.1:$port" "$server" "$clients" "$seconds" "$warmup"
