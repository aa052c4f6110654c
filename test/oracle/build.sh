#!/usr/bin/env bash
# Builds the conformance oracle once per claircore version:
#   oracle-v1.5.48  (claircore v1.5.48, pinned by Clair v4.9.0; matcher schema 16)  module file go-v1.5.48.mod
#   oracle-v1.5.54  (claircore v1.5.54, newest tag;              matcher schema 19)  module file go.mod
# into $ORACLE_BIN_DIR (default: test/oracle/bin/), reusing the normal Go module
# and build caches (GOMODCACHE, GOCACHE). Needs only Go (>= 1.24; go.mod's
# "go 1.25.0" lets GOTOOLCHAIN=auto fetch a newer toolchain if needed) and the
# module proxy. Prints "<version> <absolute path>" per binary on stdout.
#
# usage: build.sh [v1.5.48|v1.5.54 ...]     (default: all)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${ORACLE_BIN_DIR:-$here/bin}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

# version -> "modfile tags"
declare -A modfile=( [v1.5.48]=go-v1.5.48.mod [v1.5.54]=go.mod )
declare -A tags=( [v1.5.48]=oracle_zlog [v1.5.54]= )

versions=("$@")
if [ ${#versions[@]} -eq 0 ]; then versions=(v1.5.48 v1.5.54); fi

cd "$here"
export CGO_ENABLED="${CGO_ENABLED:-0}"
for v in "${versions[@]}"; do
  if [ -z "${modfile[$v]+x}" ]; then
    echo "build.sh: unknown version $v (known: ${!modfile[*]})" >&2
    exit 2
  fi
  start=$(date +%s)
  go build -mod=readonly -trimpath -buildvcs=false -modfile="${modfile[$v]}" -tags="${tags[$v]}" -o "$out/oracle-$v" .
  got="$("$out/oracle-$v" version | sed -n 's/.*"claircore": "\(.*\)".*/\1/p')"
  if [ "$got" != "$v" ]; then
    echo "build.sh: $out/oracle-$v reports claircore $got, want $v" >&2
    exit 1
  fi
  echo "build.sh: built oracle-$v in $(( $(date +%s) - start ))s" >&2
  echo "$v $out/oracle-$v"
done
