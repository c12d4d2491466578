#!/usr/bin/env bash
# Serving under load: `corral serve` against llama.cpp's own llama-server, on the same GGUF, the same threads,
# lanes and context per request, both built from the same llama.cpp source (bench/build-llama-bench.sh builds
# llama-server). Aggregate tokens/s and TTFT p50 at several numbers of concurrent streamed clients, then a
# long shared prefix sent twice by a stateless client.
#   bench/load.sh [levels] [tokens] [rounds] [parallel] [prefix words]     (defaults: 1,4,8,16 64 3 16 130; 130 words are about 1,000 tokens of the synthetic model)
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/lib.sh"
levels=${1:-1,4,8,16}; tokens=${2:-64}; rounds=${3:-3}; parallel=${4:-16}; words=${5:-130}
ctx=1536   # per request: the shared-prefix prompt and its answer fit
server="$root/bench/.llama.cpp/build/bin/llama-server"
[[ -x "$server" ]] || { echo "build llama-server first: bench/build-llama-bench.sh" >&2; exit 1; }
cp="$(corral_classpath)"
model="$(synthetic_model q4_0 "$cp")"
threads=$(nproc)
work="$(mktemp -d)"; pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT
# llama-server splits -c among its slots: give it parallel x ctx, so each slot has ctx tokens as each Corral request does
"$server" -m "$model" --host 127.0.0.1 --port 18501 -t "$threads" -tb "$threads" --parallel "$parallel" \
  -c $((parallel * ctx)) --no-webui >"$work/llama.log" 2>&1 & pids+=($!)
OTEL_SDK_DISABLED=true java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
  -Dcorral.cache="$work/corral" -jar "$root/corral-cli/target/corral.jar" serve -m "$model" --model-id bench --port 18502 \
  -t "$threads" --parallel "$parallel" -c "$ctx" --max-queued 256 >"$work/corral.log" 2>&1 & pids+=($!)
for port in 18501 18502; do
  for _ in $(seq 600); do
    if curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 || curl -sf "http://127.0.0.1:$port/v1/health" >/dev/null 2>&1; then
      break
    fi
    sleep 0.2
  done
done
java -cp "$cp" io.corral.bench.LoadBench "llama-server=http://127.0.0.1:18501,corral=http://127.0.0.1:18502" \
  "$levels" "$tokens" "$rounds" "$words"
