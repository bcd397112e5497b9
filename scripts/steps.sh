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
