#!/usr/bin/env bash
# corral pull against curl for the same 512 MiB file from a local server, alternated.
#   [SERVER=python|nginx] [SIZE_MIB=512] [CLI=1] bench/pull.sh [rounds]
# SERVER=python (the default): python3 -m http.server, which copies the file through user space and takes most of a
# core to serve it. SERVER=nginx: nginx with sendfile (apt's package, installed when missing), as file servers and CDNs
# serve: the server then takes little CPU, and what is compared is the two clients. By default the pulls run in one JVM
# (io.corral.models.PullBench: the first round pays its class loading and JIT); with CLI=1 each is a `corral pull`
# process (the jar ./build makes), as a user runs it, JVM start included. Written files are synced between rounds.
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/lib.sh"
cp="$(bench_classpath)"
dir=$(mktemp -d)
chmod 755 "$dir"
server=
trap 'kill $server 2>/dev/null || true; rm -rf "$dir"' EXIT
head -c $((${SIZE_MIB:-512} << 20)) /dev/urandom > "$dir/model.gguf"
chmod 644 "$dir/model.gguf"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
case "${SERVER:-python}" in
  python) (cd "$dir" && python3 -m http.server "$port" --bind 127.0.0.1 >/dev/null 2>&1) & server=$! ;;
  nginx)
    need_tools nginx
    cat > "$dir/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 64; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  client_body_temp_path $dir/tmp; proxy_temp_path $dir/tmp; fastcgi_temp_path $dir/tmp; uwsgi_temp_path $dir/tmp; scgi_temp_path $dir/tmp;
  server { listen 127.0.0.1:$port; root $dir; }
}
EOF
    nginx -c "$dir/nginx.conf" -e "$dir/error.log" & server=$! ;;
  *) echo "SERVER must be python or nginx" >&2; exit 2 ;;
esac
for _ in $(seq 1 50); do curl -sf -o /dev/null -r 0-0 "http://127.0.0.1:$port/model.gguf" && break; sleep 0.2; done
# the file just written is dirty in the page cache: write it out and read it once, so that neither client's first
# round pays for that (the first client in the rotation did, whichever it was)
sync
curl -sf -o /dev/null "http://127.0.0.1:$port/model.gguf"
echo "server: ${SERVER:-python}, ${SIZE_MIB:-512} MiB"
if [[ "${CLI:-0}" != 1 ]]; then
  java ${BENCH_JAVA_OPTS:-} -cp "$cp" io.corral.models.PullBench "http://127.0.0.1:$port/model.gguf" "${1:-3}"
  exit
fi
"$root/build" package >&2
jar="$root/corral-cli/target/corral.jar"
total_corral=0; total_curl=0
for round in $(seq 1 "${1:-3}"); do
  rm -rf "$dir/store" "$dir/curl.bin"; sync
  t0=$(date +%s.%N)
  java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow --add-modules jdk.incubator.vector \
    -Dcorral.cache="$dir/store" -cp "$jar" io.corral.cli.CorralCli pull "http://127.0.0.1:$port/model.gguf" >/dev/null 2>&1
  t1=$(date +%s.%N); sync
  t2=$(date +%s.%N)
  curl -sf -o "$dir/curl.bin" "http://127.0.0.1:$port/model.gguf"
  t3=$(date +%s.%N)
  a=$(echo "$t1 - $t0" | bc); b=$(echo "$t3 - $t2" | bc)
  printf '  round %d: corral pull (a process) %.2f s, curl %.2f s\n' "$round" "$a" "$b"
  total_corral=$(echo "$total_corral + $a" | bc); total_curl=$(echo "$total_curl + $b" | bc)
done
printf 'corral pull processes against curl, %s rounds: %.2f s against %.2f s a round; corral/curl throughput %.2fx\n' "${1:-3}" \
  "$(echo "$total_corral / ${1:-3}" | bc -l)" "$(echo "$total_curl / ${1:-3}" | bc -l)" "$(echo "$total_curl / $total_corral" | bc -l)"
