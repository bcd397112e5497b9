#!/usr/bin/env bash
# Set up with the dev, st (torch, sentence-transformers) and local-llm extras (llama.cpp builds from
# source once, ~7-10 minutes), install Debian chromium for the browser test, then lint, type-check,
# run the whole test suite and the eval quality gates. Each phase prints a numbered line with the
# time so far; arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/steps.sh
step "test 1/7" "准备环境 (setting up .venv with dev,st,local-llm)"
bash scripts/setup.sh dev,st,local-llm
# The second gate's index (dev2: 42 State Council regulations and a report PDF that stay in
# ../shared) is built in the background meanwhile chromium is installed and ruff and mypy run
# (each mostly one core), and waited for before the tests, whose timings want the machine.
dev2_pid=""
if [ -d ../shared/corpus_extra ]; then
  mkdir -p .zhiku-ci
  mapfile -t dev2_files < eval/dev2-files.txt
  echo "dev2 的索引在后台建立 (the dev2 gate's index is built in the background; its log: .zhiku-ci/dev2-ingest.log)"
  ZHIKU_HOME=.zhiku-ci/dev2 .venv/bin/zhiku ingest "${dev2_files[@]}" > .zhiku-ci/dev2-ingest.log 2>&1 &
  dev2_pid=$!
fi
step "test 2/7" "安装 chromium 与中文字体 (Debian chromium and CJK fonts for the browser test; needs root or sudo)"
bash scripts/browser.sh
step "test 3/7" "ruff"
.venv/bin/ruff check .
step "test 4/7" "mypy"
beat .venv/bin/mypy ingest index answer app eval scripts bench
if [ -n "$dev2_pid" ]; then
  step "test 4/7" "等待 dev2 索引完成 (waiting for the dev2 index)"
  if ! beat wait "$dev2_pid"; then
    tail -n 30 .zhiku-ci/dev2-ingest.log >&2
    exit 1
  fi
  tail -n 4 .zhiku-ci/dev2-ingest.log
fi
# The tests' index of corpus/000-004 (tests/index/conftest.py::seed_index) is built in .zhiku-ci/,
# the gate's index, with the CLI's defaults when that folder has no index yet (a fresh clone, CI):
# the gate below then finds those five unchanged instead of embedding them a second time.
step "test 5/7" "pytest（全部测试，含浏览器端到端）(the whole test suite, browser E2E included)"
ZHIKU_TEST_CORPUS_HOME=.zhiku-ci .venv/bin/python -m pytest "$@"
# The quality gate: the dev set through the default generator, against the committed thresholds
# (eval/thresholds.json). The index lives in .zhiku-ci/ and is updated incrementally.
step "test 6/7" "评测门槛 dev (the eval gate: index corpus/ into .zhiku-ci, only what changed, then eval/dev.jsonl)"
ZHIKU_HOME=.zhiku-ci .venv/bin/zhiku ingest corpus/ > /dev/null
ZHIKU_HOME=.zhiku-ci .venv/bin/zhiku eval eval/dev.jsonl --out .zhiku-ci/eval --gate eval/thresholds.json
# The second gate: dev2 (everyday phrasing over 42 State Council regulations and a report PDF that
# stay in ../shared), follow-ups left out (they are reported apart), against eval/thresholds-dev2.json.
if [ -d ../shared/corpus_extra ]; then
  step "test 7/7" "评测门槛 dev2 (the second eval gate: eval/dev2.jsonl over .zhiku-ci/dev2, indexed above)"
  ZHIKU_HOME=.zhiku-ci/dev2 .venv/bin/zhiku eval eval/dev2.jsonl --without followup --out .zhiku-ci/eval-dev2 \
    --gate eval/thresholds-dev2.json
else
  step "test 7/7" "../shared is not beside the project: the dev2 gate is skipped"
fi
step "test done" "全部通过 (all checks passed)"
