#!/usr/bin/env bash
# Corral as a gateway in front of the shared harness's mock upstream (shared/bench/gateway):
# direct vs through Corral, non-streaming and streaming, concurrency 1 to 256. With FLOOR=1, three
# more targets run in the same rotation: Helidon answering a canned body (helidon-fixed), a minimal
# relay on Helidon (helidon-relay), the floor under Corral's figures (bench/.../HelidonFloor.java), and
# a byte-for-byte TCP proxy on Netty's event loop (netty-tcp, bench/.../NettyFloor.java).
#   [FLOOR=1] [SCENARIOS="json_c1 ..."] bench/gateway.sh [reps]
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
source "$root/scripts/env.sh"
"$root/build" package
work="$root/bench/.gateway"            # a writable copy of the harness (shared/ is read-only)
rm -rf "$work" && cp -r "$root/../shared/bench/gateway" "$work" && chmod -R u+w "$work"
(cd "$work" && SKIP_PEERS=1 ./setup.sh >/dev/null)
cat > "$work/corral.yaml" <<YAML
server: {port: 18440, routing: remote-only, health_interval: 0, max_queued: 1024}
providers:
  inference:
    - provider_id: mock
      provider_type: remote::openai
      config: {base_url: "http://127.0.0.1:18000/v1", api_key: unused, passthrough: true}
YAML
MOCK_PORT=18000 "$work/mock/start.sh" >/dev/null
java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Xmx512m -XX:+UseParallelGC -jar "$root/corral-cli/target/corral.jar" \
  serve --config "$work/corral.yaml" > "$work/corral.log" 2>&1 &
corral=$!
floors=()
trap 'kill $corral 2>/dev/null; "$work/mock/stop.sh" >/dev/null 2>&1 || true' EXIT
for _ in $(seq 100); do curl -sf http://127.0.0.1:18440/v1/health >/dev/null && break; sleep 0.1; done
echo "corral: -Xmx512m -XX:+UseParallelGC, pid $corral" >&2
targets=(--target corral http://127.0.0.1:18440 --pid "$corral")
if [ "${FLOOR:-0}" = 1 ]; then
  for mode in fixed relay; do
    port=$([ $mode = fixed ] && echo 18441 || echo 18442)
    java -Xmx512m -XX:+UseParallelGC -cp "$root/corral-cli/target/corral.jar:$root/bench/target/classes" \
      io.corral.bench.HelidonFloor $mode $port > "$work/helidon-$mode.log" 2>&1 &
    floors+=($!)
    targets+=(--target "helidon-$mode" "http://127.0.0.1:$port" --pid "$!")
  done
  deps=$(cd "$root/bench" && mvn -q dependency:build-classpath -Dmdep.outputFile=/dev/stdout)
  java --enable-native-access=ALL-UNNAMED -Xmx512m -XX:+UseParallelGC -cp "$deps:$root/bench/target/classes" \
    io.corral.bench.NettyFloor 18443 > "$work/netty-tcp.log" 2>&1 &
  floors+=($!)
  targets+=(--target netty-tcp http://127.0.0.1:18443 --pid "$!")
  trap 'kill $corral "${floors[@]}" 2>/dev/null; "$work/mock/stop.sh" >/dev/null 2>&1 || true' EXIT
  sleep 3
fi
"$work/bench.sh" --reps "${1:-1}" --no-peers "${targets[@]}"
