#!/usr/bin/env bash
# Set up, then run the main job: ingest the bundled corpus and print a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/zhiku ingest corpus/ "$@"
