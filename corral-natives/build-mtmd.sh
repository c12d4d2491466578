#!/usr/bin/env bash
# Builds llama.cpp's multimodal library (libmtmd: image and audio encoders, tools/mtmd) from the exact source of the
# natives fetched by fetch-natives.sh (the git bundle inside the npm package node-llama-cpp@3.22.1, llama.cpp 0.5.0),
# linked against that variant's own libllama, libggml and libggml-base, and adds it to the variant's folder and
# files.txt. Only mtmd's sources are compiled (some 50 files; a few minutes on 2 cores): the result is cached in
# ~/.cache/corral/mtmd under a key of the source package, this script and the compiler, so only the first build pays.
# Generic code (no -march=native): mtmd builds graphs; the compute runs in ggml's CPU backends already packaged.
# Usage: build-mtmd.sh OUT VARIANT (linux-x64 only for now: the platform whose build can be tested here).
set -euo pipefail
out=${1:?usage: build-mtmd.sh OUT VARIANT}
variant=${2:?usage: build-mtmd.sh OUT VARIANT}
[[ "$variant" == linux-x64 ]] || { echo "build-mtmd: only linux-x64 is built (not $variant)" >&2; exit 2; }
if [[ "$(uname -sm)" != "Linux x86_64" ]]; then
  echo "build-mtmd: not on Linux x86-64: the linux-x64 natives go without libmtmd (no images in-process)" >&2
  exit 0
fi
version=3.22.1
sha256=a0d9dd80eacd2ab1cfe71aee57ac8a806487fd70b3d2a38fbec637752d9e5c5f
dest="$out/$variant/natives/$variant"
[[ -f "$dest/files.txt" ]] || { echo "build-mtmd: $dest has no natives (run fetch-natives.sh first)" >&2; exit 1; }
cache=${CORRAL_CACHE:-$HOME/.cache/corral}
command -v "${CXX:-g++}" >/dev/null || { echo "build-mtmd: a C++ compiler (${CXX:-g++}) is needed to build libmtmd" >&2; exit 1; }

tgz="$cache/npm/node-llama-cpp-$version.tgz"
mkdir -p "$cache/npm"
if [[ ! -f "$tgz" ]] || ! echo "$sha256  $tgz" | sha256sum -c --status; then
  echo "build-mtmd: npm pack node-llama-cpp@$version (llama.cpp's source)" >&2
  (cd "$cache/npm" && npm pack --silent "node-llama-cpp@$version" >/dev/null)
fi
if ! echo "$sha256  $tgz" | sha256sum -c --status; then
  echo "build-mtmd: sha256 mismatch for $tgz (expected $sha256)" >&2
  rm -f "$tgz"
  exit 1
fi
key=$( { echo "$sha256"; sha256sum < "$0"; "${CXX:-g++}" --version | head -1; } | sha256sum | cut -c1-16)
lib="$cache/mtmd/$key/libmtmd.so"
if [[ ! -f "$lib" ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  echo "build-mtmd: compiling libmtmd from llama.cpp's source (first build only; cached in $cache/mtmd)" >&2
  tar xzf "$tgz" -C "$tmp" package/llama/gitRelease.bundle
  git clone -q "$tmp/package/llama/gitRelease.bundle" "$tmp/src" 2>/dev/null
  src="$tmp/src"
  mkdir -p "$tmp/obj"
  flags=(-O2 -fPIC -DNDEBUG -DLLAMA_SHARED -DLLAMA_BUILD -DGGML_SHARED -w
         -I"$src/tools/mtmd" -I"$src/include" -I"$src/ggml/include" -I"$src/vendor")
  export CXX=${CXX:-g++} CC=${CC:-gcc} tmp
  # every source of the mtmd target (tools/mtmd/CMakeLists.txt) and of vendor-hash, compiled side by side
  { sed -n '/^add_library(mtmd$/,/^ *)/p' "$src/tools/mtmd/CMakeLists.txt" | grep -o '[A-Za-z0-9_./-]*\.cpp' \
      | sed "s|^|$src/tools/mtmd/|"
    echo "$src/vendor/hash/hash.cpp"
    for c in xxhash/xxhash.c sha1/sha1.c sha256/sha256.c; do echo "$src/vendor/hash/$c"; done
  } > "$tmp/sources"
  xargs -P "$(nproc)" -I{} bash -c 'f={}; o="$tmp/obj/$(echo "${f#$tmp/src/}" | tr / _).o"
    case "$f" in
      */sha1.c) exec $CXX -x c++ -std=c++17 "$@" -I"$tmp/src/vendor/hash" -c "$f" -o "$o" ;;
      *.c)      exec $CC -std=c11 "$@" -I"$tmp/src/vendor/hash" -c "$f" -o "$o" ;;
      *)        exec $CXX -std=c++17 "$@" -c "$f" -o "$o" ;;
    esac' _ "${flags[@]}" < "$tmp/sources"
  libs=("$dest"/libllama*.so "$dest"/libggml.v*.so "$dest"/libggml-base.so)
  mkdir -p "$cache/mtmd/$key"
  "$CXX" -shared -o "$lib.part" "$tmp"/obj/*.o "${libs[@]}" -Wl,-soname,libmtmd.so -Wl,-rpath,'$ORIGIN' \
    -Wl,--no-undefined -lpthread
  mv "$lib.part" "$lib"
fi
cp "$lib" "$dest/libmtmd.so"
(cd "$dest" && shopt -s nullglob && sha256sum -- *.so *.dylib *.dll > files.txt)
