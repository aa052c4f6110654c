#!/bin/sh
# Runs inside the Containerfile's build stage: produces the bundle at /work/bundle.
#
#   make-bundle.sh fetch        download the feeds (connected build host), then build
#   make-bundle.sh bake DIR     DIR holds a bundle (manifest.json): verify it and take it as is;
#                               otherwise DIR is a mirror written by `clair-bundle fetch`: build it
#
# Build arguments arrive as environment variables (all optional, space-separated lists):
#   SOURCES       feeds to fetch/build, e.g. "rhel-vex rhel-mappings" (default: every default feed)
#   FEED_URLS     fetch only: PART=URL overrides, e.g. "rhel-vex=http://mirror.example/vex/"
#   FEED_OPTIONS  NAME=VALUE feed options, e.g. "osv-ecosystems=pypi,maven"
#   TARGET        claircore version the rows follow (default: the tool's default target)
#
# Only shell built-ins and node are used, so any Node.js base image works (even one without
# coreutils). Every file of the result is made world-readable: the image runs as a non-root user.
# (MAKE_BUNDLE_CLI and MAKE_BUNDLE_OUT exist for test/image/build-and-run.sh, which runs this
# script on the host too.)
set -eu
set -f   # no globbing of the lists below
cli="node ${MAKE_BUNDLE_CLI:-/opt/clair-bundle/dist/cli/main.cjs}"
out=${MAKE_BUNDLE_OUT:-/work/bundle}

select=""
for s in ${SOURCES:-}; do select="$select --source $s"; done
options=""
for o in ${FEED_OPTIONS:-}; do options="$options --option $o"; done
target=""
if [ -n "${TARGET:-}" ]; then target="--target $TARGET"; fi

mode=${1:-}
case "$mode" in
  fetch)
    urls=""
    for u in ${FEED_URLS:-}; do urls="$urls --url $u"; done
    $cli fetch --mirror /work/mirror $select $urls $options
    $cli build --mirror /work/mirror --out "$out" $select $options $target
    ;;
  bake)
    in=${2:?make-bundle.sh bake DIR}
    if [ -f "$in/manifest.json" ]; then
      if [ -n "$select$options$target" ]; then
        echo "make-bundle: $in is a finished bundle; SOURCES, FEED_OPTIONS and TARGET only apply to a mirror" >&2
        exit 2
      fi
      $cli verify "$in"
      node -e 'require("node:fs").renameSync(process.argv[1], process.argv[2])' "$in" "$out"
    elif [ -d "$in/.fetch" ]; then
      $cli build --mirror "$in" --out "$out" $select $options $target
    else
      echo "make-bundle: $in holds neither a bundle (manifest.json) nor a mirror (.fetch/); check BAKE_DIR" >&2
      exit 2
    fi
    ;;
  *)
    echo "usage: make-bundle.sh fetch | bake DIR (got '$mode')" >&2
    exit 2
    ;;
esac

node --input-type=module -e '
import { chmodSync, readdirSync } from "node:fs";
import path from "node:path";
const walk = (dir) => {
  chmodSync(dir, 0o755);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.isFile()) chmodSync(p, 0o644);
    else throw new Error(`unexpected entry in the bundle: ${p}`);
  }
};
walk(process.argv[1]);
' "$out"
$cli verify "$out"
