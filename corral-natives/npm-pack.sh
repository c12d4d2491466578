# Sourced by fetch-natives.sh and build-mtmd.sh. npm_pack SPEC TGZ SHA256: the tarball of npm package SPEC at TGZ (in
# its cache folder), fetched with npm pack unless it is there already with that sha256, and checked against it.
npm_pack() {
  local spec=$1 tgz=$2 sha=$3 me
  me=$(basename "$0" .sh)
  if [[ ! -f "$tgz" ]] || ! echo "$sha  $tgz" | sha256sum -c --status; then
    echo "$me: npm pack $spec" >&2
    (cd "$(dirname "$tgz")" && npm pack --silent "$spec" >/dev/null)
  fi
  if ! echo "$sha  $tgz" | sha256sum -c --status; then
    echo "$me: sha256 mismatch for $tgz (expected $sha)" >&2
    rm -f "$tgz"
    exit 1
  fi
}
