#!/usr/bin/env bash
# Create .venv and install zhiku: `bash scripts/setup.sh [EXTRAS]`, EXTRAS e.g. "st" or "dev,st,local-llm".
# Safe to run again (pip installs only what is missing). Each phase prints a numbered line.
#   st         sentence-transformers (other embedders, CrossEncoder reranking) and torch==2.13.0, CPU build
#   dev        the test tools; its test model needs sentence-transformers, so it gets torch first too
#   local-llm  llama-cpp-python, compiled from source (a C++ compiler and cmake; about 7-10 minutes)
# torch: a CPU build comes only from a wheel index that has one; set TORCH_INDEX_URL (e.g.
# https://download.pytorch.org/whl/cpu) when the configured indexes do not. Plain PyPI's torch pulls
# several GB of CUDA packages: this script refuses to install that.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/steps.sh
extras="${1:-}"
python="${PYTHON:-python3}"
export PYTHONUNBUFFERED=1  # pip's lines reach a pipe or a log as they happen

needs_torch=""
case ",$extras," in *,st,* | *,dev,*) needs_torch=1 ;; esac
total=$(( ${needs_torch:-0} + 2 ))
n=0

# pip without its "Requirement already satisfied" lines (a re-run prints one per package);
# pip's exit status still counts (pipefail), grep's does not.
pip_install() {
  .venv/bin/python -m pip install "$@" | { grep --line-buffered -v '^Requirement already satisfied' || true; }
}

n=$((n + 1))
if [ ! -x .venv/bin/python ]; then
  step "setup $n/$total" "创建虚拟环境 .venv (creating the virtual environment with $python)"
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "需要 Python ≥ 3.11 (zhiku needs Python 3.11 or newer): $python 是 $("$python" --version 2>&1 || echo 'not found')；" \
      "可用 PYTHON=python3.11 bash scripts/setup.sh 指定 (point PYTHON at one)" >&2
    exit 2
  fi
  "$python" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
else
  step "setup $n/$total" "虚拟环境 .venv 已存在 (the virtual environment exists)"
fi

if [ -n "$needs_torch" ]; then
  n=$((n + 1))
  installed=$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("torch"))' 2>/dev/null || true)
  if [[ "$installed" == 2.13.0* ]]; then
    step "setup $n/$total" "torch $installed 已安装 (installed)"
  else
    step "setup $n/$total" "安装 torch==2.13.0 CPU 版 (installing torch, about 200 MB; for extras: $extras)"
    index=()
    if [ -n "${TORCH_INDEX_URL:-}" ]; then index=(--index-url "$TORCH_INDEX_URL"); fi
    # Refuse a torch that would bring CUDA (plain PyPI's build): GBs of downloads for nothing on a CPU.
    report=$(mktemp)
    .venv/bin/python -m pip install --quiet --dry-run --ignore-installed --report "$report" "${index[@]}" torch==2.13.0
    if grep -q '"name": "nvidia-' "$report"; then
      rm -f "$report"
      echo "这里的 torch==2.13.0 会带来数 GB 的 CUDA 包 (this index's torch pulls GBs of CUDA packages)." \
        "请用 CPU 版 (use a CPU build): TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu bash scripts/setup.sh $extras" >&2
      exit 2
    fi
    rm -f "$report"
    pip_install "${index[@]}" torch==2.13.0
  fi
fi

n=$((n + 1))
step "setup $n/$total" "安装 zhiku 及依赖 (installing zhiku and its dependencies${extras:+, extras: $extras})"
case ",$extras," in
  *,local-llm,*) echo "llama-cpp-python 从源码编译，约 7-10 分钟，其间每 30 秒报告一次 (compiles from source for 7-10 minutes; a line every 30 s meanwhile)" ;;
esac
beat pip_install -e ".${extras:+[$extras]}"
step "setup done" "环境已就绪 (environment ready)"
