#!/usr/bin/env bash
# Heap a held streaming request costs the server: N streaming chats open at once against 2 contexts.
#   bench/streams.sh [N]
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
source "$root/scripts/env.sh"
"$root/build" package
n=${1:-1000}; port=18433
java --enable-native-access=ALL-UNNAMED -Xmx1g -jar "$root/corral-cli/target/corral.jar" serve --port $port \
  --max-queued $((n + 10)) --parallel 2 --threads 1 2>/dev/null &
server=$!
trap 'kill $server $client 2>/dev/null' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/v1/health" >/dev/null && break; sleep 0.2; done
heap() { jcmd $server GC.run >/dev/null; sleep 0.5; jcmd $server GC.heap_info | grep -m1 -oE 'used [0-9]+K' | grep -oE '[0-9]+'; }
threads() { jcmd $server Thread.vthread_summary 2>/dev/null | grep -m1 -oE '[0-9]+ virtual threads' || true; }
before=$(heap)
java -cp "$root/bench/target/classes" io.corral.bench.ServerBench "http://127.0.0.1:$port" --hold "$n" &
client=$!
sleep 6
during=$(heap)
echo "streams held: $n; server heap after GC: ${before}K before, ${during}K with them open;" \
     "$(( (during - before) * 1024 / n )) bytes per stream; RSS $(ps -o rss= -p $server)K"
