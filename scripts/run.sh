#!/usr/bin/env bash
# Set up, then run the main job: index the bundled corpus (only what changed) and start the app
# on http://127.0.0.1:7860 (the chat, drafting and library, and the JSON API under /api/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/zhiku ingest corpus/
exec .venv/bin/zhiku serve "$@"
