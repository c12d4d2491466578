#!/usr/bin/env bash
# Chat templates: Corral's Jinja interpreter and Jinjava, each against Hugging Face's own renderer on the
# published templates of the template tests.   bench/templates.sh
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/lib.sh"
java -cp "$(bench_classpath)" io.corral.bench.TemplateEngines \
  "$root/corral-llamacpp/src/test/resources/chat-templates"
