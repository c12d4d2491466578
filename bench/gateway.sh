#!/usr/bin/env bash
# Corral as a gateway in front of the shared harness's mock upstream (shared/bench/gateway):
# direct vs through Corral, non-streaming and streaming, concurrency 1 to 256. With FLOOR=1, three
# more targets run in the same rotation: Helidon answering a canned body (helidon-fixed), a minimal
# relay on Helidon (helidon-relay), the floor under Corral's figures (bench/.../HelidonFloor.java), and
# a byte-for-byte TCP proxy on Netty's event loop (netty-tcp, bench/.../NettyFloor.java).
# With PEERS=nginx (or nginx,portkey), the harness's reference gateways run in the same rotation too.
# Corral runs as `serve` does by default: tracing on, every request's spans into the built-in store; with
# UNTRACED=1 a second Corral with tracing off (OTEL_SDK_DISABLED=true) runs in the same rotation. CORRAL_JAVA_OPTS go to
# the traced Corral (a profile: CORRAL_JAVA_OPTS=-XX:StartFlightRecording=filename=/tmp/g.jfr). With BASELINE_JAR=FILE, that
# jar (an earlier build) runs traced as corral-baseline in the same rotation.
#   [FLOOR=1] [PEERS=nginx] [SCENARIOS="json_c1 ..."] bench/gateway.sh [reps]
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
source "$root/scripts/env.sh"
"$root/build" package
work="$root/bench/.gateway"            # a writable copy of the harness (shared/ is read-only)
rm -rf "$work" && cp -r "$root/../shared/bench/gateway" "$work" && chmod -R u+w "$work"
(cd "$work" && if [[ "${PEERS:-}" == *portkey* ]]; then ./setup.sh; else SKIP_PEERS=1 ./setup.sh; fi >/dev/null)
cat > "$work/corral.yaml" <<YAML
server: {port: 18440, routing: remote-only, health_interval: 0, max_queued: 1024}
providers:
  inference:
    - provider_id: mock
      provider_type: remote::openai
      config: {base_url: "http://127.0.0.1:18000/v1", api_key: unused, passthrough: true}
YAML
MOCK_PORT=18000 "$work/mock/start.sh" >/dev/null
java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Xmx512m -XX:+UseParallelGC ${CORRAL_JAVA_OPTS:-} \
  -Dcorral.cache="$work/cache" -jar "$root/corral-cli/target/corral.jar" \
  serve --config "$work/corral.yaml" > "$work/corral.log" 2>&1 &
corral=$!
floors=()
for _ in $(seq 100); do curl -sf http://127.0.0.1:18440/v1/health >/dev/null && break; sleep 0.1; done
echo "corral: -Xmx512m -XX:+UseParallelGC, pid $corral" >&2
targets=(--target corral http://127.0.0.1:18440 --pid "$corral")
trap 'kill $corral "${floors[@]}" 2>/dev/null; "$work/mock/stop.sh" >/dev/null 2>&1 || true' EXIT
another() { # NAME PORT JAR [VAR=value...]: one more Corral over the same config, in the same rotation, its log NAME.log
  local name=$1 port=$2 jar=$3; shift 3
  sed "s/port: 18440/port: $port/" "$work/corral.yaml" > "$work/$name.yaml"
  env "$@" java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Xmx512m -XX:+UseParallelGC \
    -Dcorral.cache="$work/cache-$name" -jar "$jar" serve --config "$work/$name.yaml" > "$work/$name.log" 2>&1 &
  floors+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v1/health" >/dev/null && break; sleep 0.1; done
  targets+=(--target "$name" "http://127.0.0.1:$port" --pid "${floors[-1]}")
}
if [ "${UNTRACED:-0}" = 1 ]; then
  another corral-untraced 18444 "$root/corral-cli/target/corral.jar" OTEL_SDK_DISABLED=true
fi
if [ -n "${BASELINE_JAR:-}" ]; then # another build of Corral (an earlier commit's jar), traced as `serve` is
  another corral-baseline 18445 "$BASELINE_JAR"
fi
if [ "${FLOOR:-0}" = 1 ]; then
  deps=$(cd "$root/bench" && mvn -q dependency:build-classpath -Dmdep.outputFile=/dev/stdout)
  for mode in fixed relay; do
    port=$([ $mode = fixed ] && echo 18441 || echo 18442)
    java -Xmx512m -XX:+UseParallelGC -cp "$deps:$root/bench/target/classes" \
      io.corral.bench.HelidonFloor $mode $port > "$work/helidon-$mode.log" 2>&1 &
    floors+=($!)
    targets+=(--target "helidon-$mode" "http://127.0.0.1:$port" --pid "$!")
  done
  java --enable-native-access=ALL-UNNAMED -Xmx512m -XX:+UseParallelGC -cp "$deps:$root/bench/target/classes" \
    io.corral.bench.NettyFloor 18443 > "$work/netty-tcp.log" 2>&1 &
  floors+=($!)
  targets+=(--target netty-tcp http://127.0.0.1:18443 --pid "$!")
  sleep 3
fi
"$work/bench.sh" --reps "${1:-1}" $([ -n "${PEERS:-}" ] && echo "--peers $PEERS" || echo --no-peers) "${targets[@]}"
# spans the traced Corral's store could not keep up with (dropped from its queue, logged by the store's writer)
for log in corral corral-baseline; do
  if [ -f "$work/$log.log" ]; then
    echo "spans not stored by $log: $(grep -h 'spans were not stored' "$work/$log.log" | awk '{s += $2} END {print s + 0}')"
  fi
done
