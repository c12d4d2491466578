#!/usr/bin/env bash
# Builds llama.cpp's llama-bench and llama-server from the exact source of the engine's native libraries (the git bundle
# inside the npm package node-llama-cpp@3.22.1, llama.cpp 0.5.0), for the CPU it runs on, into
# bench/.llama.cpp/build/bin. Put that folder on the PATH before bench/engine.sh.
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
dir="$root/bench/.llama.cpp"
mkdir -p "$dir"
cd "$dir"
if [[ ! -d src ]]; then
  npm pack --silent node-llama-cpp@3.22.1 >/dev/null
  tar xzf node-llama-cpp-3.22.1.tgz package/llama/gitRelease.bundle
  git clone -q package/llama/gitRelease.bundle src
fi
# AMX off: on a VM whose CPU reports AMX without the state enabled, -march=native's AMX kernels die of an illegal
# instruction (tilezero) at the first decode; the engine's natives do not run them there either
noamx="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
cmake -S src -B build -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
  -DCMAKE_C_FLAGS="$noamx" -DCMAKE_CXX_FLAGS="$noamx" -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build --target llama-bench llama-server -j"$(nproc)"
echo "built: $dir/build/bin/llama-bench $dir/build/bin/llama-server"
