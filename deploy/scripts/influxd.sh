#!/usr/bin/env bash
# Builds InfluxDB's `influxd` once from its Go module and caches it, for the Influx sink tests.
#   influxd.sh            (setup.sh test calls it; stdout: `export` lines, progress: stderr)
# TELLY_INFLUXD_BIN=/path/to/influxd skips the build and uses that one.
# Tests only: `npm start` never needs it (the platform writes to any InfluxDB 2.x you point
# INFLUX_URL at).
#
# The build: influxdb's go.mod has `replace` lines, so `go install mod@version` refuses it; the
# module is downloaded, copied and built with `go build`. Its Flux engine links libflux (Rust),
# which cgo finds through influxdata's pkg-config wrapper: the wrapper compiles libflux with
# cargo (crates from crates.io) on the machine's stable Rust. libflux denies warnings, and newer
# compilers warn about its code: its own crates are compiled with `--cap-lints warn`, passed by
# a RUSTC_WORKSPACE_WRAPPER (RUSTFLAGS would miss the host build of flux-core that flux's build
# script uses, since the wrapper passes cargo a --target).
#
# Outcome, read by @telly/harness (`findInfluxd`):
#   $cache/influxd-$version/influxd     built: the tests run against it
#   $cache/influxd-$version.failed      the build failed where it is known to work (Linux
#                                        x86_64 with Go and a stable Rust): the tests fail
#                                        and name the log
#   $cache/influxd-$version.unavailable it cannot be built here (no Go, no Rust, another
#                                        platform, or a build failure on one not known to
#                                        work): the tests against influxd are skipped, naming
#                                        why; VictoriaMetrics still runs them
# The script itself exits 0 in every case, so a failed build never stops setup.
# One build at a time (flock); a run that finds a build under way waits for it.
set -uo pipefail

version=2.8.0
pkg_config_version=v0.2.14
cache="${TELLY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/telly}"
dir="$cache/influxd-$version"
bin="$dir/influxd"
log="$cache/influxd-$version.log"
failed="$cache/influxd-$version.failed"
unavailable="$cache/influxd-$version.unavailable"
say() { printf '[setup] %s\n' "$*" >&2; }
mkdir -p "$cache"

if [ -x "${TELLY_INFLUXD_BIN:-}" ]; then # an influxd 2.x of your own: nothing to build
  printf 'export TELLY_INFLUXD_BIN=%q\n' "$TELLY_INFLUXD_BIN"
  exit 0
fi
works() { [ -x "$bin" ] && "$bin" version 2>/dev/null | grep -q "InfluxDB v$version"; }
built() { rm -f "$failed" "$unavailable"; printf 'export TELLY_INFLUXD_BIN=%q\n' "$bin"; exit 0; }
works && built

# Where a build is known to work: a failure there is a fault to fix, not a gap to skip.
known=no
[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] && known=yes
give_up() { # reason
  rm -f "$failed" "$unavailable"
  if [ "$known" = yes ] && [ -f "$log" ]; then
    printf '%s (log: %s)\n' "$1" "$log" > "$failed"
    say "influxd $version: $1; the tests against influxd will fail until it builds (log: $log)"
  else
    printf '%s\n' "$1" > "$unavailable"
    say "influxd $version not built: $1; the Influx sink tests run against VictoriaMetrics only"
  fi
  exit 0
}
command -v go >/dev/null || { known=no; give_up "Go is not installed"; }
command -v cargo >/dev/null || { known=no; give_up "Rust (cargo) is not installed"; }
command -v cc >/dev/null || { known=no; give_up "no C compiler (cc) for cgo"; }

exec 9>"$cache/influxd-$version.lock"
if ! flock -n 9; then
  say "influxd $version: another setup is building it; waiting"
  flock -w 3600 9 || give_up "timed out waiting for another build"
fi
works && built

say "building influxd $version (once, several minutes; cached in $dir; log: $log)"
work="$(mktemp -d "$cache/influxd-$version.build.XXXXXX")"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
started=$SECONDS
(
  set -euxo pipefail
  # Go: the machine's toolchain, modules from the module proxy, a build cache of its own
  # (the wrapper keeps its copy of libflux there: a fresh one per attempt, never half-copied).
  export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOCACHE="$work/gocache" GOBIN="$work/bin"
  # Rust: the stable toolchain, whatever libflux pins; its lints never fail the build.
  mkdir -p "$work/bin"
  printf '#!/bin/sh\nexec "$@" --cap-lints warn\n' > "$work/bin/rustc-cap-lints"
  chmod +x "$work/bin/rustc-cap-lints"
  export RUSTUP_TOOLCHAIN=stable RUSTC_WORKSPACE_WRAPPER="$work/bin/rustc-cap-lints"
  unset CARGO_TARGET_DIR # the wrapper reads libflux from its own target/
  go version && cargo --version && rustc --version
  go install "github.com/influxdata/pkg-config@$pkg_config_version"
  src="$(go mod download -json "github.com/influxdata/influxdb/v2@v$version" | grep '"Dir"' | cut -d'"' -f4)"
  [ -d "$src" ]
  cp -R "$src" "$work/src"
  chmod -R u+w "$work/src"
  cd "$work/src"
  PKG_CONFIG="$work/bin/pkg-config" go build -trimpath -ldflags "-X main.version=v$version" \
    -o "$work/influxd" ./cmd/influxd
  "$work/influxd" version
) >"$log" 2>&1
status=$?
elapsed=$((SECONDS - started))
if [ "$status" -ne 0 ] || ! "$work/influxd" version 2>/dev/null | grep -q "InfluxDB v$version"; then
  echo "build failed after ${elapsed}s (exit $status)" >>"$log"
  say "influxd $version build failed after ${elapsed}s; last lines of $log:"
  tail -n 15 "$log" >&2
  give_up "the build failed after ${elapsed}s"
fi
mkdir -p "$dir.partial"
mv "$work/influxd" "$dir.partial/influxd"
rm -rf "$dir"
mv "$dir.partial" "$dir"
echo "built in ${elapsed}s" >>"$log"
say "influxd $version built in ${elapsed}s"
works && built
give_up "the built binary does not run"
