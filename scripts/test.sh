#!/usr/bin/env bash
# Set up with the dev extras, then lint, type-check and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
.venv/bin/ruff check .
.venv/bin/mypy ingest index app eval scripts bench
.venv/bin/python -m pytest "$@"
