#!/usr/bin/env bash
# Stages llama.cpp's native libraries for each VARIANT under OUT/<variant>/natives/<variant>/, one folder per
# artifact of this module: the llama and ggml libraries of npm's @node-llama-cpp/<variant> (npm pack, the tarball
# checked against the sha256 pinned below, cached in ~/.cache/corral/npm), a files.txt with each file's sha256
# (the loader checks them when it unpacks), build.json (the package's build metadata: llama.cpp release, GPU)
# and the package's licence. Usage: fetch-natives.sh OUT VARIANT...
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/npm-pack.sh"
out=${1:?usage: fetch-natives.sh OUT VARIANT...}
shift
# npm publishes 3.22.1 (llama.cpp 0.5.0) for Linux only; macOS and Windows stop at 3.21.1 (llama.cpp 0.4.0), whose
# llama.h differs from 0.5.0's only by additions the binding does not use (see docs/ARCHITECTURE.md).
declare -A version=(
  [linux-x64]=3.22.1 [linux-x64-cuda]=3.22.1 [linux-x64-cuda-ext]=3.22.1 [linux-x64-vulkan]=3.22.1
  [linux-arm64]=3.22.1
  [mac-arm64-metal]=3.21.1 [mac-x64]=3.21.1
  [win-x64]=3.21.1 [win-x64-cuda]=3.21.1 [win-x64-cuda-ext]=3.21.1 [win-x64-vulkan]=3.21.1 [win-arm64]=3.21.1
)
declare -A sha256=(
  [linux-x64]=0d953e1503d5ab4608d8ed5b739132308c81ac05ffeb760d2a7f30e08a9f90e0
  [linux-x64-cuda]=d6cd3ff39a43b024816952e0bc6452d6711608d26256ff6eb0fe8cf7ff55bb2c
  [linux-x64-cuda-ext]=1c4817215f51d0ebea37ea684a409a418e62cfb19fcbb5b6e0300e50c6ee9bee
  [linux-x64-vulkan]=e10577190fc4bd1649d3b655588e5c7a85fc6b6dbf7136fee596cbe9e25521e7
  [linux-arm64]=39c76b998e35ed2f236c01472fc79eda0fc558b1c8b535023c2d7ded8c327cc4
  [mac-arm64-metal]=cd11a52fab1935fde5abd221b5ecf8167686b45e386b6a02df49cb9b2814e9d6
  [mac-x64]=3bcc6b2d6d3618098a36c9c01ae3afff1599f336a826cd54b1a55a73ed2159a7
  [win-x64]=9e48b1bf39e41c8b955a20006a3bdfd4861bedbb2661c87f7e29a5207f1ff0e8
  [win-x64-cuda]=7824fb3d391d32194f3ee537d70ab3e334030cca71a85b855c368f36b251dc83
  [win-x64-cuda-ext]=db173b0a095b0c297549c74dd8963eb7127e84b1629c0e4ce9ee4f653f6f9f82
  [win-x64-vulkan]=105e8207d2114f5f248b217fee7f9b702d0e7509cf0d3c7565dfb9e707f9303e
  [win-arm64]=458c8c6de4463b5fde16b1fbc69e63a7e878b227ed9614a0a3648d9b40bf2ccb
)
cache=${CORRAL_CACHE:-$HOME/.cache/corral}/npm
mkdir -p "$cache"

for variant in "$@"; do
  v=${version[$variant]:?fetch-natives: unknown variant $variant}
  dest="$out/$variant/natives/$variant"
  stamp="$out/$variant/.fetched"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$v ${sha256[$variant]}" ]]; then
    continue
  fi
  tgz="$cache/node-llama-cpp-$variant-$v.tgz"
  npm_pack "@node-llama-cpp/$variant@$v" "$tgz" "${sha256[$variant]}"
  tmp=$(mktemp -d)
  tar xzf "$tgz" -C "$tmp"
  rm -rf "$out/$variant"
  mkdir -p "$dest"
  # An -ext package holds one file: the CUDA backend built for the previous CUDA major version, which the loader
  # tries when the main package's backend cannot load. Its folder is named after the package it extends.
  src="$tmp/package/bins/${variant%-ext}"
  [[ "$variant" == *-ext ]] && src="$src/fallback"
  # The llama and ggml libraries only: not the Node addon, nor llama-common (C++ helpers we do not use).
  for f in "$src"/*; do
    name=$(basename "$f")
    case "$name" in
      *llama-common*|llama-addon*|_nlcBuildMetadata.json) continue ;;
      *.so|*.dylib|*.dll) cp "$f" "$dest/" ;;
    esac
  done
  if [[ -f "$src/_nlcBuildMetadata.json" ]]; then cp "$src/_nlcBuildMetadata.json" "$dest/build.json"; fi
  cp "$tmp/package/LICENSE" "$dest/LICENSE-node-llama-cpp.txt"
  rm -rf "$tmp"
  (cd "$dest" && shopt -s nullglob && sha256sum -- *.so *.dylib *.dll > files.txt)
  echo "$v ${sha256[$variant]}" > "$stamp"
done
