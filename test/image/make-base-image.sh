#!/usr/bin/env bash
# Assembles a Node.js base image from this machine's own Node runtime, without any registry:
# `buildah from scratch` + node, npm, the shared libraries they need (ldd), /bin/sh and
# /usr/bin/env (npm scripts and `#!/usr/bin/env node` shebangs), a minimal /etc/passwd with the
# non-root user 1001, CA certificates and a sticky /tmp. It stands in for the UBI Node.js image
# (registry.access.redhat.com/ubi9/nodejs-20-minimal) that the Containerfile uses by default.
#
#   test/image/make-base-image.sh IMAGE_NAME        (buildah global options via $BUILDAH_OPTS)
#
# Idempotent: an image of that name built from the same node binary is reused.
set -euo pipefail
image=${1:?usage: make-base-image.sh IMAGE_NAME}
read -r -a opts <<<"${BUILDAH_OPTS:-}"
bh() { buildah "${opts[@]}" "$@"; }

node_bin=$(readlink -f "$(command -v node)")
npm_cli=$(readlink -f "$(command -v npm)")
npm_dir=$(dirname "$(dirname "$npm_cli")")           # …/node_modules/npm
[ -f "$npm_dir/package.json" ] || { echo "make-base-image: cannot find npm's package next to $npm_cli" >&2; exit 1; }
stamp="$(node --version) $(sha256sum "$node_bin" | cut -c1-16) npm-$(node -p "require('$npm_dir/package.json').version")"

if bh inspect --type image --format '{{index .OCIv1.Config.Labels "io.clair-bundle.test.base"}}' "$image" 2>/dev/null | grep -qxF "$stamp"; then
  echo "make-base-image: $image is current ($stamp)"
  exit 0
fi

root=$(mktemp -d /var/tmp/clair-bundle-base.XXXXXX)
ctr=
cleanup() { [ -z "$ctr" ] || bh rm "$ctr" >/dev/null 2>&1 || true; rm -rf "$root"; }
trap cleanup EXIT

# Keep the host's merged-/usr symlinks (/bin -> usr/bin, /lib -> usr/lib …) so every path ldd
# prints resolves the same way inside the image.
for d in bin sbin lib lib32 lib64 libx32; do
  if [ -L "/$d" ]; then
    target=$(readlink "/$d")
    case "$target" in /*) target=${target#/} ;; esac
    mkdir -p "$root/$target"
    ln -s "$(readlink "/$d")" "$root/$d"
  fi
done
mkdir -p "$root/usr/bin" "$root/usr/lib" "$root/etc/ssl/certs" "$root/tmp" "$root/root" "$root/var/tmp"
chmod 1777 "$root/tmp" "$root/var/tmp"
chmod 700 "$root/root"

put() {   # put HOST_FILE [IMAGE_PATH]: copy (dereferenced) to the same or the given path
  local dest="$root${2:-$1}"
  mkdir -p "$(dirname "$dest")"
  cp -L "$1" "$dest"
}
libs() {  # the shared libraries and the dynamic loader a binary needs
  ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u
}

put "$node_bin" /usr/bin/node
put /bin/sh /bin/sh
put "$(command -v env)" /usr/bin/env
for bin in "$node_bin" /bin/sh "$(command -v env)"; do
  for lib in $(libs "$bin"); do put "$lib"; done
done
cp -a "$npm_dir" "$root/usr/lib/node_modules-npm.tmp"
mkdir -p "$root/usr/lib/node_modules"
mv "$root/usr/lib/node_modules-npm.tmp" "$root/usr/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/bin/npx"
put /etc/ssl/certs/ca-certificates.crt
cat >"$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
default:x:1001:0:Default Application User:/tmp:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
PASSWD
cat >"$root/etc/group" <<'GROUP'
root:x:0:
nogroup:x:65534:
GROUP
printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"

# The runtime must work in the image: a quick check before committing anything.
ctr=$(bh from scratch)
bh copy "$ctr" "$root/" / >/dev/null
bh config --env PATH=/usr/local/bin:/usr/bin:/bin \
  --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
  --env HOME=/root --user 0 --workingdir / \
  --label "io.clair-bundle.test.base=$stamp" "$ctr"
got=$(bh run --isolation chroot "$ctr" -- node -e 'process.stdout.write(process.version)')
[ "$got" = "$(node --version)" ] || { echo "make-base-image: node in the image printed '$got'" >&2; exit 1; }
bh run --isolation chroot "$ctr" -- sh -c 'npm --version >/dev/null' || { echo "make-base-image: npm does not run in the image" >&2; exit 1; }
bh commit --quiet --rm "$ctr" "$image" >/dev/null
ctr=
echo "make-base-image: built $image ($stamp)"
