#!/usr/bin/env bash
# Chat templates: Corral's Jinja interpreter and Jinjava, each against Hugging Face's own renderer on the
# published templates of the template tests.   bench/templates.sh
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
source "$root/scripts/env.sh"
cd "$root"
mvn -q -B install -DskipTests -pl bench -am
mvn -q -B -pl bench dependency:build-classpath -Dmdep.outputFile="$root/bench/target/classpath.txt" >/dev/null
java -cp "$root/bench/target/classes:$(cat "$root/bench/target/classpath.txt")" io.corral.bench.TemplateEngines \
  "$root/corral-llamacpp/src/test/resources/chat-templates"
