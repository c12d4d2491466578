#!/usr/bin/env bash
# Regenerates the expected renderings of the chat-template tests with Hugging Face's own renderer
# (npm @huggingface/jinja, pinned), independently of Corral's. Needs node and npm (Maven Central and npm reachable).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm init -y >/dev/null
npm install --silent --no-audit --no-fund @huggingface/jinja@0.5.11 >/dev/null
cp "$here/scripts/chat-templates.mjs" .
node chat-templates.mjs "$here/corral-llamacpp/src/test/resources/chat-templates"
