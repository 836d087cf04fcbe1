#!/usr/bin/env bash
# The validators of the deployment files (deploy/compose, deploy/k8s), once, cached:
#   kustomize             from its Go module (sigs.k8s.io/kustomize/kustomize/v5)
#   kubernetes-validate   from PyPI, in a venv of Debian's python3 (python3-venv)
# docker-compose and nginx are Debian packages (apt-test.txt). setup.sh test calls this; it
# prints nothing on stdout and exits 0 even when a build fails (the tests then name what is missing).
#   $cache/kustomize-$kustomize_version/kustomize
#   $cache/kubernetes-validate-$kv_version/bin/kubernetes-validate (and .installed once complete)
set -uo pipefail

kustomize_version=v5.8.1
kv_version=1.37.0
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
exit 0
