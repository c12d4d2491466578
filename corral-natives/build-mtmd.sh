#!/usr/bin/env bash
# Builds llama.cpp's multimodal library (libmtmd: image and audio encoders, tools/mtmd) from the exact source of the
# natives fetched by fetch-natives.sh (the git bundle inside the npm package node-llama-cpp@3.22.1, llama.cpp 0.5.0)
# and adds it to each VARIANT's folder and files.txt, linked against that variant's own libllama, libggml and
# libggml-base (their names differ by variant: libllama.v0.5.0.so, libllama.vulkan.v0.5.0.so, ...), so that it uses
# the very libraries the engine loaded. Only mtmd's sources are compiled, once for all variants (some 50 files; about
# 40 s on 2 cores); objects and libraries are cached in ~/.cache/corral/mtmd under a key of the source package, this
# script and the compiler, so only the first build pays. Generic code (no -march=native): mtmd builds graphs; the
# compute runs in ggml's backends already packaged.
# Usage: build-mtmd.sh OUT VARIANT... (Linux x86-64 variants: linux-x64, linux-x64-cuda, linux-x64-vulkan)
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/npm-pack.sh"
out=${1:?usage: build-mtmd.sh OUT VARIANT...}
shift
for variant in "$@"; do
  [[ "$variant" == linux-x64 || "$variant" == linux-x64-* ]] || { echo "build-mtmd: only linux-x64 variants are built (not $variant)" >&2; exit 2; }
done
if [[ "$(uname -sm)" != "Linux x86_64" ]]; then
  echo "build-mtmd: not on Linux x86-64: the linux-x64 natives go without libmtmd (no images in-process)" >&2
  exit 0
fi
version=3.22.1
sha256=a0d9dd80eacd2ab1cfe71aee57ac8a806487fd70b3d2a38fbec637752d9e5c5f
cache=${CORRAL_CACHE:-$HOME/.cache/corral}
export CXX=${CXX:-g++} CC=${CC:-gcc}
command -v "$CXX" >/dev/null || { echo "build-mtmd: a C++ compiler ($CXX) is needed to build libmtmd" >&2; exit 1; }

tgz="$cache/npm/node-llama-cpp-$version.tgz"
mkdir -p "$cache/npm"
npm_pack "node-llama-cpp@$version" "$tgz" "$sha256" # llama.cpp's source, as a git bundle
key=$( { echo "$sha256"; sha256sum < "$0"; "$CXX" --version | head -1; } | sha256sum | cut -c1-16)
built="$cache/mtmd/$key"

compile() { # every source of the mtmd target (tools/mtmd/CMakeLists.txt) and of vendor-hash, compiled side by side
  local tmp src
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  echo "build-mtmd: compiling libmtmd from llama.cpp's source (first build only; cached in $cache/mtmd)" >&2
  tar xzf "$tgz" -C "$tmp" package/llama/gitRelease.bundle
  git clone -q "$tmp/package/llama/gitRelease.bundle" "$tmp/src" 2>/dev/null
  src="$tmp/src"
  mkdir -p "$tmp/obj"
  { sed -n '/^add_library(mtmd$/,/^ *)/p' "$src/tools/mtmd/CMakeLists.txt" | grep -o '[A-Za-z0-9_./-]*\.cpp' \
      | sed "s|^|$src/tools/mtmd/|"
    echo "$src/vendor/hash/hash.cpp"
    for c in xxhash/xxhash.c sha1/sha1.c sha256/sha256.c; do echo "$src/vendor/hash/$c"; done
  } > "$tmp/sources"
  export tmp
  xargs -P "$(nproc)" -I{} bash -c 'f={}; o="$tmp/obj/$(echo "${f#$tmp/src/}" | tr / _).o"
    case "$f" in
      */sha1.c) exec $CXX -x c++ -std=c++17 "$@" -I"$tmp/src/vendor/hash" -c "$f" -o "$o" ;;
      *.c)      exec $CC -std=c11 "$@" -I"$tmp/src/vendor/hash" -c "$f" -o "$o" ;;
      *)        exec $CXX -std=c++17 "$@" -c "$f" -o "$o" ;;
    esac' _ -O2 -fPIC -DNDEBUG -DLLAMA_SHARED -DLLAMA_BUILD -DGGML_SHARED -w \
      -I"$src/tools/mtmd" -I"$src/include" -I"$src/ggml/include" -I"$src/vendor" < "$tmp/sources"
  rm -rf "$built/obj.part"
  mkdir -p "$built"
  mv "$tmp/obj" "$built/obj.part"
  mv "$built/obj.part" "$built/obj"
}

for variant in "$@"; do
  dest="$out/$variant/natives/$variant"
  [[ -f "$dest/files.txt" ]] || { echo "build-mtmd: $dest has no natives (run fetch-natives.sh first)" >&2; exit 1; }
  lib="$built/$variant/libmtmd.so"
  if [[ ! -f "$lib" ]]; then
    [[ -d "$built/obj" ]] || compile
    mkdir -p "$built/$variant"
    shopt -s nullglob
    libs=("$dest"/libllama*.so "$dest"/libggml.*so "$dest"/libggml-base.so)
    shopt -u nullglob
    [[ ${#libs[@]} -eq 3 ]] || { echo "build-mtmd: $dest lacks libllama, libggml or libggml-base" >&2; exit 1; }
    "$CXX" -shared -o "$lib.part" "$built"/obj/*.o "${libs[@]}" -Wl,-soname,libmtmd.so -Wl,-rpath,'$ORIGIN' \
      -Wl,--no-undefined -lpthread
    mv "$lib.part" "$lib"
  fi
  cp "$lib" "$dest/libmtmd.so"
  (cd "$dest" && shopt -s nullglob && sha256sum -- *.so *.dylib *.dll > files.txt)
done
