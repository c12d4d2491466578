#!/usr/bin/env bash
# The server's own overhead: req/s and p50/p99 for /v1/models and a one-token chat, 1/16/64 clients.
# With FRONTED=1, a second server whose config names a remote engine (a host that is down, so the public
# port is the Netty front and decoded requests take the loopback hop to Helidon) runs in the same rotation.
#   [FRONTED=1] bench/server.sh [seconds per scenario]
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
source "$root/scripts/env.sh"
"$root/build" package
jar="$root/corral-cli/target/corral.jar"
port=18432
java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Xmx512m -jar "$jar" serve --port $port \
  --max-queued 128 --parallel 2 2>/dev/null &
servers=($!)
trap 'kill "${servers[@]}" 2>/dev/null' EXIT
targets=("direct $port")
if [ "${FRONTED:-0}" = 1 ]; then
  config="$(mktemp --suffix=.yaml)"
  cat > "$config" <<YAML
server: {port: 18433, max_queued: 128, health_interval: 0}
providers:
  inference:
    - {provider_id: local, provider_type: inline::llamacpp, config: {parallel: 2}}
    - {provider_id: down, provider_type: remote::openai, config: {base_url: "http://127.0.0.1:1/v1"}}
YAML
  java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Xmx512m -jar "$jar" serve \
    --config "$config" 2>/dev/null &
  servers+=($!)
  targets+=("fronted 18433")
fi
for t in "${targets[@]}"; do
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:${t#* }/v1/health" >/dev/null && break; sleep 0.2; done
done
for t in "${targets[@]}"; do
  echo "## ${t% *}"
  java -cp "$root/bench/target/classes" io.corral.bench.ServerBench "http://127.0.0.1:${t#* }" "${1:-5}"
done
echo "server heap after the run: $(jcmd "${servers[0]}" GC.heap_info 2>/dev/null | grep -m1 -oE 'used [0-9]+K')"
