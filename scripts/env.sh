# Sourced by ./corral, ./build and .ci/run: finds a JDK 25+ (JAVA_HOME) and the build tools.
# Nobody needs to set JAVA_HOME by hand; an explicit one is used when it is new enough.

java_major() { # prints the feature version of the java at $1, or 0
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -1 || echo 0
}

find_jdk() {
  local candidates=()
  [[ -n "${JAVA_HOME:-}" ]] && candidates+=("$JAVA_HOME")
  for d in /usr/lib/jvm/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [[ -d "$d" ]] && candidates+=("$d")
  done
  if command -v java >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  fi
  local best="" best_major=0 m
  for d in "${candidates[@]}"; do
    [[ -x "$d/bin/java" && -x "$d/bin/javac" ]] || continue
    m=$(java_major "$d/bin/java")
    if [[ "${m:-0}" -ge 25 && "$m" -gt "$best_major" ]]; then best="$d"; best_major=$m; fi
  done
  [[ -n "$best" ]] || { echo "corral: no JDK 25 or newer found (looked in JAVA_HOME, /usr/lib/jvm, PATH); install one, e.g. Temurin 25" >&2; return 1; }
  echo "$best"
}

JAVA_HOME=$(find_jdk) || exit 1
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"
# Maven 3.8 on JDK 25: silence its (harmless) sun.misc.Unsafe warnings
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"

need_tools() { # installs Maven, npm and any package named as an argument (e.g. prometheus) when missing (root, Debian)
  local missing=() p
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
  for p in "$@"; do command -v "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [[ ${#missing[@]} -gt 0 ]]; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
      echo "corral: installing ${missing[*]} with apt-get" >&2
      apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
    else
      echo "corral: please install: ${missing[*]}" >&2
      return 1
    fi
  fi
}

need_library() { # installs Debian package $1 when the shared library $2 is not found (root, Debian); else says so and goes on
  ldconfig -p 2>/dev/null | grep -q "$2" && return 0
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "corral: installing $1 with apt-get" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >&2
  else
    echo "corral: $2 not found (package $1); the tests that need it take the path without it" >&2
  fi
}
