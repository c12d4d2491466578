#!/usr/bin/env bash
# Puts llama.cpp's native libraries for this platform under OUT/natives/<platform>/, with a files.txt
# index, for the engine jar. They come from the npm package @node-llama-cpp/<platform> (npm pack),
# checked against the sha256 pinned below, and cached in ~/.cache/corral/npm.
set -euo pipefail
out=${1:?usage: fetch-natives.sh OUTPUT_DIR}
version=3.22.1
declare -A sha256=(
  [linux-x64]=0d953e1503d5ab4608d8ed5b739132308c81ac05ffeb760d2a7f30e08a9f90e0
)

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) platform=linux-x64 ;;
  *) echo "fetch-natives: no pinned llama.cpp build for $(uname -s)-$(uname -m); set CORRAL_LLAMA_LIB_DIR at run time" >&2
     exit 0 ;;
esac

dest="$out/natives/$platform"
stamp="$dest/.version"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$version" ]]; then
  exit 0
fi

cache=${CORRAL_CACHE:-$HOME/.cache/corral}/npm
tgz="$cache/node-llama-cpp-$platform-$version.tgz"
mkdir -p "$cache"
if [[ ! -f "$tgz" ]] || ! echo "${sha256[$platform]}  $tgz" | sha256sum -c --status; then
  echo "fetch-natives: npm pack @node-llama-cpp/$platform@$version" >&2
  (cd "$cache" && npm pack --silent "@node-llama-cpp/$platform@$version" >/dev/null)
fi
if ! echo "${sha256[$platform]}  $tgz" | sha256sum -c --status; then
  echo "fetch-natives: sha256 mismatch for $tgz (expected ${sha256[$platform]})" >&2
  rm -f "$tgz"
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar xzf "$tgz" -C "$tmp"
rm -rf "$dest"
mkdir -p "$dest"
# The llama and ggml libraries only: not the Node addon, nor libllama-common (C++ helpers we do not use).
for f in "$tmp/package/bins/$platform"/lib*.so; do
  case "$(basename "$f")" in libllama-common.so) continue ;; esac
  cp "$f" "$dest/"
done
cp "$tmp/package/LICENSE" "$dest/LICENSE-node-llama-cpp.txt"
(cd "$dest" && ls lib*.so > files.txt)
echo "$version" > "$stamp"
