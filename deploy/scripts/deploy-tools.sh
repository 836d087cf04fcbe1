#!/usr/bin/env bash
# The validators of the deployment files (deploy/compose, deploy/k8s), once, cached:
#   kustomize             from its Go module (sigs.k8s.io/kustomize/kustomize/v5)
#   kubernetes-validate   from PyPI, in a venv of Debian's python3 (python3-venv)
#   nats (natscli)        from its Go module (github.com/nats-io/natscli): the backup guide's tool
# docker-compose and nginx are Debian packages (apt-test.txt). setup.sh test calls this; it
# prints nothing on stdout and exits 0 even when a build fails (the tests then name what is missing).
#   $cache/kustomize-$kustomize_version/kustomize
#   $cache/kubernetes-validate-$kv_version/bin/kubernetes-validate (and .installed once complete)
#   $cache/natscli-$natscli_version/nats
set -uo pipefail

kustomize_version=v5.8.1
kv_version=1.37.0
natscli_version=v0.5.1
cache="${TELLY_CACHE_DIR:?}"
log() { printf '[setup] %s\n' "$*" >&2; }

kustomize_dir="$cache/kustomize-$kustomize_version"
if [ ! -x "$kustomize_dir/kustomize" ]; then
  if command -v go >/dev/null; then
    log "building kustomize $kustomize_version (once; cached in $cache)"
    GOBIN="$kustomize_dir" GOFLAGS=-mod=mod go install "sigs.k8s.io/kustomize/kustomize/v5@$kustomize_version" >&2 ||
      log "kustomize $kustomize_version did not build: the Kubernetes manifest tests will fail naming it"
  else
    log "Go is needed to build kustomize $kustomize_version: the Kubernetes manifest tests will fail naming it"
  fi
fi

kv_dir="$cache/kubernetes-validate-$kv_version"
if [ ! -f "$kv_dir/.installed" ]; then
  log "installing kubernetes-validate $kv_version into $kv_dir (once)"
  rm -rf "$kv_dir"
  if /usr/bin/python3 -m venv "$kv_dir" >&2 &&
    "$kv_dir/bin/pip" install -q --disable-pip-version-check "kubernetes-validate==$kv_version" >&2; then
    touch "$kv_dir/.installed"
  else
    log "kubernetes-validate $kv_version did not install: the Kubernetes manifest tests will fail naming it"
  fi
fi

# natscli's go.mod has replace lines, which `go install pkg@version` refuses: build it in a copy
# of the module source instead (fetched and verified by `go mod download`)
natscli_dir="$cache/natscli-$natscli_version"
if [ ! -x "$natscli_dir/nats" ]; then
  if command -v go >/dev/null; then
    log "building natscli $natscli_version (once; cached in $cache)"
    (
      set -e
      exec 9>"$cache/natscli-build.lock"
      flock 9 # one build at a time (parallel setup runs)
      [ ! -x "$natscli_dir/nats" ] || exit 0
      src="$(cd "$cache" && GOFLAGS=-mod=mod go mod download -json "github.com/nats-io/natscli@$natscli_version" |
        sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
      [ -d "$src" ]
      work="$(mktemp -d)"
      trap 'rm -rf "$work"' EXIT
      cp -r "$src/." "$work/"
      chmod -R u+w "$work"
      rm -rf "$natscli_dir.partial"
      mkdir -p "$natscli_dir.partial"
      (cd "$work" && GOFLAGS=-mod=mod go build -trimpath -ldflags='-s -w' -o "$natscli_dir.partial/nats" ./nats) >&2
      rm -rf "$natscli_dir"
      mv "$natscli_dir.partial" "$natscli_dir"
    ) || log "natscli $natscli_version did not build: the backup test will fail naming it"
  else
    log "Go is needed to build natscli $natscli_version: the backup test will fail naming it"
  fi
fi
exit 0
