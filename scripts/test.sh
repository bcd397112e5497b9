#!/usr/bin/env bash
# Set up with the dev extras and the local LLM (llama.cpp builds from source once, ~7 minutes),
# install Debian chromium for the browser test, then lint, type-check, run the whole test suite
# and the eval quality gate.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev,local-llm
bash scripts/browser.sh
.venv/bin/ruff check .
.venv/bin/mypy ingest index answer app eval scripts bench
.venv/bin/python -m pytest "$@"
# The quality gate: the dev set through the default generator, against the committed thresholds
# (eval/thresholds.json). The index lives in .zhiku-ci/ and is updated incrementally.
ZHIKU_HOME=.zhiku-ci .venv/bin/zhiku ingest corpus/ > /dev/null
ZHIKU_HOME=.zhiku-ci .venv/bin/zhiku eval eval/dev.jsonl --out .zhiku-ci/eval --gate eval/thresholds.json
