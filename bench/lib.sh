# Sourced by the bench scripts: the JDK (scripts/env.sh) and the bench module's class path, built.
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
source "$root/scripts/env.sh"

# Builds the bench module (and what it needs) and prints its class path.
bench_classpath() {
  (cd "$root" && mvn -q -B install -DskipTests -pl bench -am \
    && mvn -q -B -pl bench dependency:build-classpath -Dmdep.outputFile="$root/bench/target/classpath.txt") >&2
  echo "$root/bench/target/classes:$(cat "$root/bench/target/classpath.txt")"
}

# The bench classes, the CLI jar (which carries the engine) and corral-gguf's test jar (SyntheticModel), built by
# ./build; prints the class path.
corral_classpath() {
  "$root/build" package >&2
  echo "$root/bench/target/classes:$root/corral-cli/target/corral.jar:$(ls "$root"/corral-gguf/target/corral-gguf-*-tests.jar)"
}

# The Llama-3.2-1B-shaped model with random weights of type $1 (q4_0 or q8_0), written on first use with class path
# $2; prints its path.
synthetic_model() {
  local model="$root/bench/.models/llama-3.2-1b-shape-$1.gguf"
  if [[ ! -f "$model" ]]; then
    mkdir -p "$(dirname "$model")"
    echo "writing $model" >&2
    java -cp "$2" io.corral.gguf.SyntheticModel "$model" "$1" >&2
  fi
  echo "$model"
}
