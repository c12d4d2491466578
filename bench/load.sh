#!/usr/bin/env bash
# Serving under load: `corral serve` against llama.cpp's own llama-server, on the same GGUF, the same threads,
# lanes and context per request, both built from the same llama.cpp source (bench/build-llama-bench.sh builds
# llama-server). Aggregate tokens/s and TTFT p50 at several numbers of concurrent streamed clients, then a
# long shared prefix sent twice by a stateless client.
#   [FIRST=corral|llama-server: the server started first, corral] [WARM=passes, 1: uncounted warm-up, each 16 clients x 2 requests and one client x 4, per server] [LLAMA_NATIVE=1] [LLAMA_ARGS="--kv-unified ..."] [CTX=tokens a request, 1536] [CORRAL_JAVA_OPTS=...] [KEEP=1: keep the work folder and logs] bench/load.sh [levels] [tokens] [rounds] [parallel] [prefix words]     (defaults: 1,4,8,16 64 3 16 130; 130 words are about 1,000 tokens of the synthetic model)
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/lib.sh"
levels=${1:-1,4,8,16}; tokens=${2:-64}; rounds=${3:-3}; parallel=${4:-16}; words=${5:-130}
ctx=${CTX:-1536}   # per request: the shared-prefix prompt and its answer fit
first=${FIRST:-corral}
[[ $first == corral || $first == llama-server ]] || { echo "FIRST is corral or llama-server, not $first" >&2; exit 2; }
[[ "${WARM:-1}" =~ ^[0-9]{1,3}$ ]] || { echo "WARM is a number of warm-up passes, not ${WARM}" >&2; exit 2; }
server="$root/bench/.llama.cpp/build/bin/llama-server"
[[ -x "$server" ]] || { echo "build llama-server first: bench/build-llama-bench.sh" >&2; exit 1; }
cp="$(corral_classpath)"
model="$(synthetic_model q4_0 "$cp")"
threads=$(nproc)
work="$(mktemp -d)"; pids=()
trap 'kill "${pids[@]}" 2>/dev/null; [[ -n "${KEEP:-}" ]] || rm -rf "$work"' EXIT
wait_up() { # port
  for _ in $(seq 600); do
    if curl -sf "http://127.0.0.1:$1/health" >/dev/null 2>&1 || curl -sf "http://127.0.0.1:$1/v1/health" >/dev/null 2>&1; then
      return
    fi
    sleep 0.2
  done
}
# llama-server runs on the very ggml and llama libraries Corral loads (its natives, as Corral unpacks them: the CPU
# variant picked at run time), so the two differ in serving only; LLAMA_NATIVE=1 keeps the -march=native build's own
# (on an Intel VM of 2026-11-29 that build generated at 11.7 tok/s against 34 for the packaged libraries).
# A one-token `corral run` unpacks them before either server starts.
java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Dcorral.cache="$work/corral" \
  -jar "$root/corral-cli/target/corral.jar" run -m "$model" -n 1 -c 64 hello >"$work/unpack.log" 2>&1 \
  || { echo "corral could not run $model to unpack its natives:" >&2; cat "$work/unpack.log" >&2; exit 1; }
if [[ -z "${LLAMA_NATIVE:-}" ]]; then
  # the variant Corral loaded (CPU, CUDA or Vulkan): the folder it unpacked last
  natives=$(ls -td "$work"/corral/natives/*/ | head -1); natives=${natives%/}
  mkdir -p "$work/libs"
  for f in "$natives"/*.so; do ln -s "$f" "$work/libs/"; done
  ln -s "$natives/libllama.v0.5.0.so" "$work/libs/libllama.so.0"
  ln -s "$natives/libggml.v0.5.0.so" "$work/libs/libggml.so.0"
  ln -s "$natives/libggml-base.so" "$work/libs/libggml-base.so.0"
fi
start_corral() {
  OTEL_SDK_DISABLED=true java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow ${CORRAL_JAVA_OPTS:-} \
    -Dcorral.cache="$work/corral" -jar "$root/corral-cli/target/corral.jar" serve -m "$model" --model-id bench --port 18502 \
    -t "$threads" --parallel "$parallel" -c "$ctx" --max-queued 256 >"$work/corral.log" 2>&1 & pids+=($!)
  wait_up 18502
}
# llama-server splits -c among its slots: give it parallel x ctx, so each slot has ctx tokens as each Corral request does
# (run from the libraries' folder: ggml looks for its CPU variants beside the program and in the working directory)
start_llama() {
  (if [[ -z "${LLAMA_NATIVE:-}" ]]; then cd "$work/libs"; export LD_LIBRARY_PATH="$work/libs"; fi
   exec "$server" -m "$model" --host 127.0.0.1 --port 18501 -t "$threads" -tb "$threads" \
     --parallel "$parallel" -c $((parallel * ctx)) --no-webui ${LLAMA_ARGS:-}) >"$work/llama.log" 2>&1 & pids+=($!)
  wait_up 18501
}
# The server started first generates slower on this VM, whichever it is (three started one after another, the same
# requests alternated: 33.3 / 31.9 / 30.0 ms a token in start order), so FIRST names it and a comparison runs both orders.
if [[ $first == corral ]]; then start_corral; start_llama; else start_llama; start_corral; fi
java -cp "$cp" io.corral.bench.LoadBench "llama-server=http://127.0.0.1:18501,corral=http://127.0.0.1:18502" \
  "$levels" "$tokens" "$rounds" "$words"
