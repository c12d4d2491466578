#!/usr/bin/env bash
# corral pull against curl for the same 512 MiB file from a local server (python3 -m http.server), alternated.
#   bench/pull.sh [rounds]
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/lib.sh"
cp="$(bench_classpath)"
dir=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$dir"' EXIT
head -c $((512 << 20)) /dev/urandom > "$dir/model.gguf"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd "$dir" && python3 -m http.server "$port" --bind 127.0.0.1 >/dev/null 2>&1) & server=$!
for _ in $(seq 1 50); do curl -sf -o /dev/null -r 0-0 "http://127.0.0.1:$port/model.gguf" && break; sleep 0.2; done
java ${BENCH_JAVA_OPTS:-} -cp "$cp" io.corral.models.PullBench "http://127.0.0.1:$port/model.gguf" "${1:-3}"
