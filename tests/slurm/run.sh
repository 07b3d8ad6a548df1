#!/usr/bin/env bash
# One Slurm end-to-end test (see tests.cmake):
#   run.sh --up | --down     ctest fixture: bring a local Slurm up / down
#   run.sh test.lua          run the test with $SPY_BIN; exit 77 without Slurm
set -uo pipefail
src=${SPY_SOURCE_DIR:?}
marker=${SPY_SLURM_MARKER:?}

slurm_ok() { sinfo -h -o %P >/dev/null 2>&1; }

find_slurm() {
  [[ -n ${SLURM_CONF:-} ]] && slurm_ok && return 0
  eval "$("$src/scripts/local-slurm" env)"
  "$src/scripts/local-slurm" status >/dev/null 2>&1 && slurm_ok
}

case ${1:-} in
  --up)
    if find_slurm; then
      echo "using the running Slurm (SLURM_CONF=$SLURM_CONF)"
    elif "$src/scripts/local-slurm" start; then
      touch "$marker"
    else
      echo "no Slurm could be started: the Slurm tests will be skipped"
    fi
    exit 0
    ;;
  --down)
    if [[ -f $marker ]]; then
      rm -f "$marker"
      "$src/scripts/local-slurm" stop
    fi
    exit 0
    ;;
esac

if ! find_slurm; then
  echo "SKIP: no Slurm available (scripts/local-slurm start brings one up)"
  exit 77
fi
export SLURM_CONF
cd "$(dirname "$1")" || exit 1
exec "${SPY_BIN:?}" "$1"
