#!/usr/bin/env bash
# Entry point of `npm start` and `npm test`: set up the pinned toolchain, then run on it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cmd="${1:?usage: run.sh start|test|<node args>}"; shift || true
setup_mode=start; [ "$cmd" = test ] && setup_mode=test
eval "$(bash "$root/deploy/scripts/setup.sh" "$setup_mode")"
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
cd "$root"
case "$cmd" in
  start) node web/src/build/cli.ts >&2 && exec node deploy/src/bin/telly.ts up "$@" ;; # the dashboard at /, built first
  test) exec node deploy/scripts/test-all.ts "$@" ;;
  *) exec node "$cmd" "$@" ;;
esac
