#!/usr/bin/env bash
# Set up, then run the main job: index the bundled corpus (only what changed) and print a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/zhiku ingest corpus/ "$@"
