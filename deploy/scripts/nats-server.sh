#!/usr/bin/env bash
# Builds the nats-server Telly manages: the pinned upstream module (deploy/scripts/nats-server.version),
# fetched through the Go module proxy, plus the group-commit patch in deploy/nats/ (see README there:
# group-commit.patch, stream_groupcommit.go and its Go tests). Built once, cached under a key that
# includes the patch's hash; prints the binary's path on stdout, progress on stderr.
#   nats-server.sh            the patched server (what setup.sh uses)
#   nats-server.sh --test     also runs the patch's Go tests (about 3 minutes on 2 cores)
#   nats-server.sh --upstream the unpatched server of the same version (the benchmarks' reference)
set -euo pipefail

mode="${1:-build}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="${TELLY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/telly}"
version="$(tr -d ' \n' < "$root/deploy/scripts/nats-server.version")"
module="github.com/nats-io/nats-server/v2"
patch_dir="$root/deploy/nats"
patch_files=("$patch_dir/group-commit.patch" "$patch_dir/stream_groupcommit.go" "$patch_dir/stream_groupcommit_test.go")
log() { printf '[nats-server] %s\n' "$*" >&2; }
mkdir -p "$cache"

if [ "$mode" = --upstream ]; then
  dir="$cache/nats-server-$version"
else
  hash="$(cat "${patch_files[@]}" | sha256sum | cut -c1-12)"
  dir="$cache/nats-server-$version-telly-$hash"
fi
bin="$dir/nats-server"
if [ -x "$bin" ] && [ "$mode" != --test ]; then
  echo "$bin"
  exit 0
fi

command -v go >/dev/null || { log "Go is needed to build nats-server $version (or set TELLY_NATS_SERVER_BIN)"; exit 1; }
exec 9>"$cache/nats-server-build.lock"
flock 9 # one build at a time (parallel setup runs)

# the module source, verified against go.sum's database by the go command
src="$(cd "$cache" && GOFLAGS=-mod=mod go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[ -d "$src" ] || { log "go mod download $module@$version gave no source directory"; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$src/." "$work/"
chmod -R u+w "$work"

ldflags="-s -w"
if [ "$mode" != --upstream ]; then
  log "applying the group-commit patch ($hash) to nats-server $version"
  # git apply, not patch(1): git is there wherever the repository was cloned; it refuses a patch
  # that does not apply (a new upstream version): setup stops here, loudly
  (cd "$work" && git apply -p1 "$patch_dir/group-commit.patch")
  cp "$patch_dir/stream_groupcommit.go" "$patch_dir/stream_groupcommit_test.go" "$work/server/"
  # shows in the startup banner ("Git: [telly-…]") and in /varz, so a running server tells which it is
  ldflags="$ldflags -X $module/server.gitCommit=telly-$hash"
  if [ "$mode" = --test ]; then
    log "running the patch's Go tests"
    (cd "$work" && GOFLAGS=-mod=mod go test ./server -run 'TestGroupCommit' -count=1 >&2)
  fi
fi
if [ ! -x "$bin" ]; then
  log "building nats-server $version into $dir (once)"
  rm -rf "$dir.partial"
  mkdir -p "$dir.partial"
  (cd "$work" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$dir.partial/nats-server" . >&2)
  rm -rf "$dir"
  mv "$dir.partial" "$dir"
fi
echo "$bin"
