#!/usr/bin/env bash
# Every chat template llama.cpp keeps (models/templates, from the llama.cpp bundled in npm node-llama-cpp@3.22.1)
# x the template tests' conversations: Hugging Face's renderer (npm @huggingface/jinja) makes the expected text,
# then Corral's interpreter and Jinjava are compared with it.   bench/templates-all.sh
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/lib.sh"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent node-llama-cpp@3.22.1 >/dev/null
tar xzf node-llama-cpp-3.22.1.tgz package/llama/gitRelease.bundle
git clone -q package/llama/gitRelease.bundle llama.cpp 2>/dev/null
mkdir -p set/templates set/expected
cp llama.cpp/models/templates/*.jinja set/templates/
cp -r "$root/corral-llamacpp/src/test/resources/chat-templates/cases" set/
npm init -y >/dev/null
npm install --silent --no-audit --no-fund @huggingface/jinja@0.5.11 >/dev/null
cp "$root/scripts/chat-templates.mjs" .
node chat-templates.mjs "$work/set"
java -cp "$(bench_classpath)" io.corral.bench.TemplateEngines "$work/set"
