#!/usr/bin/env bash
# Set up, then run the main job: index the bundled corpus (only what changed) and start the app
# on http://127.0.0.1:7860 (the chat, drafting and library, and the JSON API under /api/).
# Options go to `zhiku serve` (e.g. --port 8000). A first run takes about 5 minutes on two cores (README, Requirements).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/steps.sh
step "run 1/3" "准备环境 (setting up .venv)"
bash scripts/setup.sh
step "run 2/3" "索引 corpus/（只处理有变化的文件；首次约 3 分钟）(indexing corpus/, only what changed; the first time about 3 minutes)"
.venv/bin/zhiku ingest corpus/
step "run 3/3" "启动应用 (starting the app: zhiku serve $*; by default http://127.0.0.1:7860) — Ctrl+C 停止 (to stop)"
exec .venv/bin/zhiku serve "$@"
