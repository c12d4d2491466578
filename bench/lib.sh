# Sourced by the bench scripts: the JDK (scripts/env.sh) and the bench module's class path, built.
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
source "$root/scripts/env.sh"

# Builds the bench module (and what it needs) and prints its class path.
bench_classpath() {
  (cd "$root" && mvn -q -B install -DskipTests -pl bench -am \
    && mvn -q -B -pl bench dependency:build-classpath -Dmdep.outputFile="$root/bench/target/classpath.txt") >&2
  echo "$root/bench/target/classes:$(cat "$root/bench/target/classpath.txt")"
}
