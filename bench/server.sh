#!/usr/bin/env bash
# The server's own overhead: req/s, p50/p99 and the server's CPU per request for /v1/models and a
# one-token chat, 1/16/64 clients. Three servers with the bundled model run in the same rotation:
#   local        local engine only, tracing off (OTEL_SDK_DISABLED=true)
#   with-remote  the same plus a remote engine in its config (a host that is down), tracing off
#   traced       local engine only, tracing on (the default: spans into the built-in SQLite store)
# and the idle RSS of each is printed after start-up and after the run. With BASELINE_JAR=FILE (an earlier build's
# corral.jar), a fourth server, `baseline`, runs that jar as `local` runs, in the same rotation. With PAIR=N, only the
# one-token chat runs, on `local` and `traced` (or PAIR_WITH=with-remote) alternated for N rounds (CLIENTS=16), with the
# CPU per request and requests/s of each, the medians of the rounds' ratios, the ratio over all rounds together, each
# server's CPU per request by thread, and the traced server's trace-store thread's CPU per request. WARM=n rounds run
# first, alternated the same way, uncounted (the JIT is still compiling for the first minutes).
#   [REPS=N] [BASELINE_JAR=FILE] [PAIR=rounds [PAIR_WITH=traced|with-remote] [CLIENTS=n] [WARM=n]] bench/server.sh [seconds]
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
source "$root/scripts/env.sh"
"$root/build" package
jar="$root/corral-cli/target/corral.jar"
work="$(mktemp -d)"
run() { # name port env... -- serve args...
  local name=$1 port=$2; shift 2
  local envs=(); while [ "$1" != -- ]; do envs+=("$1"); shift; done; shift
  env "${envs[@]}" java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Xmx512m \
    -Dcorral.cache="$work/$name" -jar "${RUN_JAR:-$jar}" serve --port "$port" "$@" 2>/dev/null &
  pids+=($!); targets+=("$name $port $!")
}
cat > "$work/remote.yaml" <<YAML
server: {port: 18433, max_queued: 128, health_interval: 0}
providers:
  inference:
    - {provider_id: local, provider_type: inline::llamacpp, config: {parallel: 2}}
    - {provider_id: down, provider_type: remote::openai, config: {base_url: "http://127.0.0.1:1/v1"}}
YAML
pids=(); targets=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT
run local 18432 OTEL_SDK_DISABLED=true -- --max-queued 128 --parallel 2
run with-remote 18433 OTEL_SDK_DISABLED=true -- --config "$work/remote.yaml"
run traced 18434 CORRAL_UNUSED=1 -- --max-queued 128 --parallel 2
if [ -n "${BASELINE_JAR:-}" ]; then
  RUN_JAR="$BASELINE_JAR" run baseline 18435 OTEL_SDK_DISABLED=true -- --max-queued 128 --parallel 2
fi
for t in "${targets[@]}"; do
  read -r name port pid <<<"$t"
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v1/health" >/dev/null && break; sleep 0.2; done
done
sleep 2
for t in "${targets[@]}"; do
  read -r name port pid <<<"$t"
  echo "idle RSS after start-up, $name: $(( $(awk '/VmRSS/ {print $2}' /proc/$pid/status) / 1024 )) MiB"
done
if [ -n "${PAIR:-}" ]; then # PAIR=rounds: only the one-token chat, `local` and PAIR_WITH alternated round by round
  case "${PAIR_WITH:-traced}" in
    traced) other="traced=http://127.0.0.1:18434@${pids[2]}" ;;
    with-remote) other="with-remote=http://127.0.0.1:18433@${pids[1]}" ;;
    *) echo "PAIR_WITH is traced or with-remote" >&2; exit 2 ;;
  esac
  java -cp "$root/bench/target/classes" io.corral.bench.ServerBench --pair "local=http://127.0.0.1:18432@${pids[0]}" \
    "$other" "${1:-5}" "$PAIR" "${CLIENTS:-16}" "${WARM:-0}"
  exit
fi
for rep in $(seq "${REPS:-1}"); do
  for t in "${targets[@]}"; do
    read -r name port pid <<<"$t"
    echo "## $name (repetition $rep)"
    java -cp "$root/bench/target/classes" io.corral.bench.ServerBench "http://127.0.0.1:$port" "${1:-5}" --pid "$pid"
  done
done
for t in "${targets[@]}"; do
  read -r name port pid <<<"$t"
  echo "RSS after the run, $name: $(( $(awk '/VmRSS/ {print $2}' /proc/$pid/status) / 1024 )) MiB"
done
