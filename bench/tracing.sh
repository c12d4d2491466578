#!/usr/bin/env bash
# What tracing costs a one-token local chat: two `corral serve` with the bundled model, one with tracing off
# (OTEL_SDK_DISABLED=true), one as serve runs by default (every request's spans into the built-in SQLite store), the
# chat alternated between them round by round; the server's CPU per request from /proc, the median of the rounds' ratios.
#   bench/tracing.sh [seconds a round] [rounds] [clients]
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
source "$root/scripts/env.sh"
"$root/build" package
jar="$root/corral-cli/target/corral.jar"
work="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT
start() { # name port env
  env "$3" java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Xmx512m \
    -Dcorral.cache="$work/$1" -jar "$jar" serve --port "$2" --max-queued 128 --parallel 2 2>/dev/null &
  pids+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$2/v1/health" >/dev/null && break; sleep 0.2; done
}
start untraced 18436 OTEL_SDK_DISABLED=true
start traced 18437 CORRAL_UNUSED=1
java -cp "$root/bench/target/classes" io.corral.bench.ServerBench --pair "untraced=http://127.0.0.1:18436@${pids[0]}" \
  "traced=http://127.0.0.1:18437@${pids[1]}" "${1:-5}" "${2:-7}" "${3:-16}"
