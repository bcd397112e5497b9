#!/usr/bin/env bash
# Set up with the dev extras, then lint, type-check and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
.venv/bin/ruff check .
.venv/bin/mypy ingest index app eval scripts bench
.venv/bin/python -m pytest "$@"
# The quality gate: the dev set through the default generator, against the committed thresholds
# (eval/thresholds.json). The index lives in .zhiku-ci/ and is updated incrementally.
ZHIKU_HOME=.zhiku-ci .venv/bin/zhiku ingest corpus/ > /dev/null
ZHIKU_HOME=.zhiku-ci .venv/bin/zhiku eval eval/dev.jsonl --out .zhiku-ci/eval --gate eval/thresholds.json
