#!/usr/bin/env bash
# Builds the clair-bundle image with buildah and labels it with the bundle it carries.
#
#   deploy/build-image.sh -t TAG [-t TAG]... [any `buildah bud` option]... CONTEXT
#
# e.g. on a connected build host (fresh feeds):
#   deploy/build-image.sh -t registry.example.com/clair-bundle:$(date -u +%Y%m%d) \
#     --build-arg MODE=fetch --build-arg SOURCES="rhel-vex rhel-mappings" .
# or from a bundle directory built before (offline):
#   deploy/build-image.sh -t clair-bundle:latest --build-arg BAKE_DIR=bundle .
#
# Why a wrapper: the bundle's digest and creation time are only known once the build has made
# the bundle (MODE=fetch downloads it during the build), and a LABEL cannot take a value that a
# RUN step computed. So the script builds the image under a temporary name, reads
# /bundle/manifest.json out of it (with the image's own node: nothing is needed on the host but
# buildah), and commits it again under the requested tags with these labels added:
#   io.clair-bundle.bundle.digest    manifest digest (what `clair-bundle status` shows as loaded)
#   io.clair-bundle.bundle.created   bundle creation time (newest upstream download)
#   io.clair-bundle.bundle.sources   feeds in the bundle, comma-separated
#   io.clair-bundle.bundle.target    claircore version the rows follow
#   org.opencontainers.image.version tool version; org.opencontainers.image.created: build time
# The relabelling adds one empty layer. Images built with plain `buildah bud`/`podman build`
# work the same, only without these labels (add them with --label, see README).
#
# Environment: BUILDAH (default: buildah), BUILDAH_OPTS (global buildah options, e.g.
# "--storage-driver vfs"), BUILDAH_ISOLATION and BUILDAH_FORMAT as buildah itself reads them.
set -euo pipefail

read -r -a global <<<"${BUILDAH_OPTS:-}"
bh() { "${BUILDAH:-buildah}" "${global[@]}" "$@"; }
die() { echo "build-image: $*" >&2; exit 2; }

tags=() bud=() isolation=() format=()
while [ $# -gt 0 ]; do
  case "$1" in
    -t|--tag) [ $# -ge 2 ] || die "$1 needs a value"; tags+=("$2"); shift 2 ;;
    --tag=*) tags+=("${1#--tag=}"); shift ;;
    --isolation) [ $# -ge 2 ] || die "$1 needs a value"; isolation=(--isolation "$2"); bud+=("$1" "$2"); shift 2 ;;
    --isolation=*) isolation=("$1"); bud+=("$1"); shift ;;
    --format) [ $# -ge 2 ] || die "$1 needs a value"; format=(--format "$2"); bud+=("$1" "$2"); shift 2 ;;
    --format=*) format=("$1"); bud+=("$1"); shift ;;
    --target|--target=*|--manifest|--manifest=*|--platform|--platform=*|--all-platforms)
      die "$1 is not supported by this wrapper (one image per run; use buildah bud directly)" ;;
    *) bud+=("$1"); shift ;;
  esac
done
[ "${#tags[@]}" -gt 0 ] || die "usage: build-image.sh -t TAG [buildah bud options]... CONTEXT"
[ "${#bud[@]}" -gt 0 ] || die "no build context given (the repository root, e.g. '.')"

tmp="localhost/clair-bundle-unlabelled:$(date -u +%Y%m%d%H%M%S)-$$"
ctr=
cleanup() {
  [ -z "$ctr" ] || bh rm "$ctr" >/dev/null 2>&1 || true
  bh rmi "$tmp" >/dev/null 2>&1 || true
}
trap cleanup EXIT

bh bud -t "$tmp" "${bud[@]}"

ctr=$(bh from --pull=never "$tmp")
# One value per line: digest, created, sources, target, tool version.
mapfile -t info < <(bh run "${isolation[@]}" "$ctr" -- node -e '
  const m = JSON.parse(require("node:fs").readFileSync("/bundle/manifest.json", "utf8"));
  if (!/^[0-9a-f]{64}$/.test(m.digest ?? "")) throw new Error("/bundle/manifest.json has no digest");
  console.log([m.digest, m.created, (m.sources ?? []).map((s) => s.name).join(","), m.target ?? "", m.tool?.version ?? ""].join("\n"));
')
[ "${#info[@]}" -eq 5 ] || die "could not read /bundle/manifest.json from the built image"
bh config \
  --label "io.clair-bundle.bundle.digest=${info[0]}" \
  --label "io.clair-bundle.bundle.created=${info[1]}" \
  --label "io.clair-bundle.bundle.sources=${info[2]}" \
  --label "io.clair-bundle.bundle.target=${info[3]}" \
  --label "org.opencontainers.image.version=${info[4]}" \
  --label "org.opencontainers.image.created=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  "$ctr"
id=$(bh commit --quiet "${format[@]}" --rm "$ctr" "${tags[0]}")
ctr=
for t in "${tags[@]:1}"; do bh tag "${tags[0]}" "$t"; done
echo "build-image: ${tags[*]} ($id) carries bundle ${info[0]} created ${info[1]} (${info[2]})"
