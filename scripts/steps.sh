# Sourced by setup.sh, run.sh and test.sh: `step LABEL TEXT` prints one line per phase with the
# time since the outermost script started, so a long first run (or its log) shows where it is.
# ZHIKU_STEPS_T0 is exported, so setup.sh run from run.sh counts from run.sh's start.
export ZHIKU_STEPS_T0="${ZHIKU_STEPS_T0:-$(date +%s)}"

_elapsed() {
  local s=$(( $(date +%s) - ZHIKU_STEPS_T0 ))
  printf '%dm%02ds' $(( s / 60 )) $(( s % 60 ))
}

step() {
  local label="$1"
  shift
  printf '\n[%s] %s  (+%s)\n' "$label" "$*" "$(_elapsed)"
}

# `beat CMD...`: run CMD, printing a line every ZHIKU_BEAT_S (30) seconds while it runs, so a
# phase that is quiet for minutes (llama.cpp compiling inside pip) still shows it is alive.
beat() {
  ( while sleep "${ZHIKU_BEAT_S:-30}"; do printf '  … 仍在进行 (still working)  (+%s)\n' "$(_elapsed)"; done ) &
  local ticker=$!
  local status=0
  "$@" || status=$?
  kill "$ticker" 2>/dev/null || true
  wait "$ticker" 2>/dev/null || true
  return "$status"
}
