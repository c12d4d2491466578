#!/usr/bin/env bash
# CPU per request of Corral's one HTTP client (Netty) vs the JDK's HttpClient, small JSON POSTs to a host in
# another process, interleaved runs.   bench/client.sh [clients] [requests per client] [runs]
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/lib.sh"
cp="$(bench_classpath)"
port=$((20000 + RANDOM % 20000))
java --enable-native-access=ALL-UNNAMED -cp "$cp" io.corral.remote.ClientBench serve "$port" & host=$!
trap 'kill $host 2>/dev/null' EXIT
sleep 1   # the host binds its port
java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -cp "$cp" io.corral.remote.ClientBench "$port" "${1:-64}" "${2:-500}" "${3:-3}"
