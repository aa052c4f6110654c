#!/usr/bin/env bash
# Builds the image from the Containerfile for real and runs it against a throwaway PostgreSQL.
#
#   test/image/build-and-run.sh            (as root; needs buildah, PostgreSQL server binaries, node)
#
# 1. a Node.js base image assembled from this machine's node (test/image/make-base-image.sh):
#    no registry is contacted except npm's, for `npm ci` inside the build
# 2. a bundle built on the host from samples/mirror, baked with MODE=bake through
#    deploy/build-image.sh (so the bundle labels are checked too)
# 3. image checks: user 1001, ENTRYPOINT/CMD, labels = the bundle's manifest, files not writable
# 4. PostgreSQL with Clair's matcher schema (sql/clair-schema: base + upgrade to 20), owned by a
#    non-superuser `clair` role; the image's own ENTRYPOINT + CMD run through `buildah run`
#    (chroot isolation shares the host network, so 127.0.0.1 reaches the server):
#      run 1, CLAIR_BUNDLE_DB=…        -> loaded, rows in Clair's tables, termination message
#      run 2, CLAIR_CONF=mounted yaml  -> unchanged, nothing new in Clair's tables
#    and the container's root filesystem is compared before/after: only /tmp may change
# 5. MODE=fetch: the same feeds served on 127.0.0.1 and fetched inside the build; the bundle in
#    that image must hold exactly the rows of the baked one
#
# Every failure stops the script with a message naming the check. Buildah uses its own
# throwaway storage (vfs driver, chroot isolation), removed at the end with the database.
# Environment: CLAIR_BUNDLE_IMAGE_TEST_KEEP=1 keeps the storage and work dir for inspection;
# CLAIR_BUNDLE_IMAGE_TEST_FETCH=0 skips step 5.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
t0=$(date +%s)
step() { echo "== image test [$(( $(date +%s) - t0 ))s]: $*"; }
fail() { echo "IMAGE TEST FAILED: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "run as root (buildah storage, PostgreSQL as the postgres user)"
command -v buildah >/dev/null || fail "buildah is not installed (apt-get install -y buildah)"
command -v psql >/dev/null || fail "psql is not installed (postgresql-client)"
id postgres >/dev/null 2>&1 || fail "the postgres OS user is missing"
pgbin=${PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}
[ -x "$pgbin/initdb" ] || fail "PostgreSQL server binaries not found (set PG_BINDIR)"

work="$repo/test/image/.work"   # inside the build context: BAKE_DIR must be
rm -rf "$work"
mkdir -p "$work"
store=$(mktemp -d /var/tmp/clair-bundle-image-test.XXXXXX)
export BUILDAH_OPTS="--root $store/root --runroot $store/run --storage-driver vfs"
export BUILDAH_ISOLATION=chroot
read -r -a bopts <<<"$BUILDAH_OPTS"
bh() { buildah "${bopts[@]}" "$@"; }
pgdata="$store/pg"
feed_pid=
containers=()
cleanup() {
  local rc=$?
  set +e
  [ -z "$feed_pid" ] || kill "$feed_pid" 2>/dev/null
  for c in "${containers[@]}"; do bh umount "$c" >/dev/null 2>&1; bh rm "$c" >/dev/null 2>&1; done
  [ ! -f "$pgdata/postmaster.pid" ] || runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgdata" -m immediate -w stop >/dev/null 2>&1
  if [ "${CLAIR_BUNDLE_IMAGE_TEST_KEEP:-0}" = 1 ]; then
    echo "image test: kept $store and $work"
  else
    bh rm --all >/dev/null 2>&1
    rm -rf "$store" "$work"
  fi
  echo "image test: $([ $rc = 0 ] && echo passed || echo FAILED) in $(( $(date +%s) - t0 ))s"
}
trap cleanup EXIT

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
# image_cmd IMAGE: the image's ENTRYPOINT followed by its CMD, one word per line
image_cmd() { bh inspect --type image --format '{{range .OCIv1.Config.Entrypoint}}{{println .}}{{end}}{{range .OCIv1.Config.Cmd}}{{println .}}{{end}}' "$1"; }
label() { bh inspect --type image --format "{{index .OCIv1.Config.Labels \"$2\"}}" "$1"; }
manifest_field() { node -p "const m=require(process.argv[1]); $2" "$1"; }

# ---------------------------------------------------------------------------------------------
step "compile and build the sample bundle on the host"
npm run --silent build
node dist/cli/main.cjs build --mirror samples/mirror --out "$work/bundle" --quiet
digest=$(manifest_field "$work/bundle/manifest.json" m.digest)
created=$(manifest_field "$work/bundle/manifest.json" m.created)
[[ "$digest" =~ ^[0-9a-f]{64}$ ]] || fail "host bundle has no digest"

step "deploy/image/make-bundle.sh (the build's bundle step) on the host, with dash"
mb() { MAKE_BUNDLE_CLI="$repo/dist/cli/main.cjs" MAKE_BUNDLE_OUT="$work/mb" sh deploy/image/make-bundle.sh "$@"; }
mb bake samples/mirror >"$work/mb.log" 2>&1 || { cat "$work/mb.log" >&2; fail "make-bundle.sh bake <mirror>"; }
[ "$(manifest_field "$work/mb/manifest.json" m.digest)" = "$digest" ] || fail "make-bundle.sh bake <mirror> built a different bundle"
find "$work/mb" -type d ! -perm 0755 -o -type f ! -perm 0644 | grep . && fail "make-bundle.sh left files not world-readable"
cp -r "$work/bundle" "$work/in" && rm -rf "$work/mb"
mb bake "$work/in" >"$work/mb.log" 2>&1 || { cat "$work/mb.log" >&2; fail "make-bundle.sh bake <bundle>"; }
[ -f "$work/mb/manifest.json" ] && [ ! -e "$work/in" ] || fail "make-bundle.sh bake <bundle> did not take the bundle"
rc=0; mb bake "$repo/sql" >"$work/mb.log" 2>&1 || rc=$?
[ $rc = 2 ] && grep -q 'neither a bundle' "$work/mb.log" || fail "make-bundle.sh bake <not a bundle or mirror> exited $rc"
rc=0; SOURCES=rhel-vex mb bake "$work/mb" >"$work/mb.log" 2>&1 || rc=$?
[ $rc = 2 ] || fail "make-bundle.sh bake <bundle> with SOURCES exited $rc"
rm -rf "$work/mb"

step "assemble the local Node.js base image (no registry)"
base=localhost/clair-bundle-test-node:20
test/image/make-base-image.sh "$base"

step "buildah bud MODE=bake through deploy/build-image.sh"
image=localhost/clair-bundle:image-test
deploy/build-image.sh -t "$image" --pull=never --isolation chroot \
  --build-arg NODE_IMAGE="$base" --build-arg MODE=bake \
  --build-arg BAKE_DIR=test/image/.work/bundle -f Containerfile . >"$work/build-bake.log" 2>&1 \
  || { tail -n 40 "$work/build-bake.log" >&2; fail "image build (MODE=bake) failed; log above"; }
size=$(bh images --format '{{.Size}}' "$image")

step "image configuration"
[ "$(bh inspect --type image --format '{{.OCIv1.Config.User}}' "$image")" = 1001 ] || fail "image does not run as user 1001"
mapfile -t cmd < <(image_cmd "$image")
[ "${cmd[*]}" = "node /opt/clair-bundle/dist/cli/main.cjs load /bundle" ] || fail "ENTRYPOINT+CMD is '${cmd[*]}'"
[ "$(label "$image" io.clair-bundle.bundle.digest)" = "$digest" ] || fail "label io.clair-bundle.bundle.digest is not the bundle's digest $digest"
[ "$(label "$image" io.clair-bundle.bundle.created)" = "$created" ] || fail "label io.clair-bundle.bundle.created is not $created"
[ "$(label "$image" io.clair-bundle.bundle.sources)" = "rhel-vex,rhel-mappings" ] || fail "label io.clair-bundle.bundle.sources is '$(label "$image" io.clair-bundle.bundle.sources)'"

# The container used for every run; its root filesystem is mounted to prove it stays unchanged.
ctr=$(bh from --pull=never --name clair-bundle-image-test "$image")
containers+=("$ctr")
rootfs=$(bh mount "$ctr")
in_image() { bh run --isolation chroot "$@"; }
in_image "$ctr" -- node -e '
  const fs = require("node:fs");
  if (process.getuid() !== 1001) throw new Error(`runs as uid ${process.getuid()}`);
  for (const p of ["/bundle", "/bundle/manifest.json", "/opt/clair-bundle", "/opt/clair-bundle/dist/cli/main.cjs", "/opt/clair-bundle/node_modules", "/opt/clair-bundle/sql"]) {
    fs.accessSync(p, fs.constants.R_OK);
    let writable = true;
    try { fs.accessSync(p, fs.constants.W_OK); } catch { writable = false; }
    if (writable) throw new Error(`${p} is writable by the runtime user`);
  }
  for (const d of ["typescript", "vitest", "@types/node"])
    if (fs.existsSync(`/opt/clair-bundle/node_modules/${d}`)) throw new Error(`dev dependency ${d} in the image`);
  if (fs.existsSync("/opt/clair-bundle/src")) throw new Error("sources in the image");
' || fail "file layout/permissions in the image"
in_image "$ctr" -- node /opt/clair-bundle/dist/cli/main.cjs verify /bundle >/dev/null || fail "verify /bundle inside the image"

# ---------------------------------------------------------------------------------------------
step "PostgreSQL with Clair's matcher schema (20)"
pgport=$(free_port)
pgpass=$(node -p 'require("crypto").randomBytes(12).toString("hex")')
mkdir -p "$pgdata" && chown postgres "$store" "$pgdata" && chmod 700 "$pgdata"
runuser -u postgres -- "$pgbin/initdb" -D "$pgdata" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
  -E UTF8 --locale=C.UTF-8 --no-sync >"$store/initdb.log" 2>&1 || { cat "$store/initdb.log" >&2; fail initdb; }
runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgdata" -l "$store/pg.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -c port=$pgport -c unix_socket_directories=$store -c fsync=off -c full_page_writes=off" start >/dev/null \
  || { cat "$store/pg.log" >&2; fail "PostgreSQL did not start"; }
admin() { runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -h "$store" -p "$pgport" -U postgres "$@"; }
admin -d postgres -c "CREATE ROLE clair LOGIN PASSWORD '$pgpass'" -c "CREATE DATABASE matcher OWNER clair"
db_url="postgres://clair:$pgpass@127.0.0.1:$pgport/matcher?sslmode=disable"
for f in matcher-base.sql matcher-upgrade-20.sql; do
  psql -X -q -v ON_ERROR_STOP=1 "$db_url" -f "sql/clair-schema/$f" >/dev/null || fail "creating Clair's schema ($f)"
done
q() { psql -X -At -v ON_ERROR_STOP=1 "$db_url" -c "$1"; }

# ---------------------------------------------------------------------------------------------
# Kubernetes mounts /dev/termination-log; here a file, announced by CLAIR_BUNDLE_TERMINATION_LOG.
termdir="$store/termination"
mkdir -p "$termdir"
: >"$termdir/log" && chmod 0777 "$termdir" && chmod 0666 "$termdir/log"
conf="$store/clair"
mkdir -p "$conf"
cat >"$conf/config.yaml" <<YAML
http_listen_addr: :8080
matcher:
  connstring: host=127.0.0.1 port=$pgport dbname=matcher user=clair password=$pgpass sslmode=disable
  disable_updaters: true
YAML
chmod 0755 "$conf" && chmod 0644 "$conf/config.yaml"
mounts=(--volume "$termdir:/termination:rw" --volume "$conf:/clair:ro" --mount type=tmpfs,destination=/tmp)
# buildah itself creates the mount points in the root filesystem on the first run and touches
# /run on every run: a no-op run first, then the snapshot of everything else.
in_image "${mounts[@]}" "$ctr" -- node -e 0
snapshot() { find "$rootfs" -xdev -printf '%P %s %T@ %m %U\n' 2>/dev/null | grep -v -E '^((tmp|var/tmp|dev|proc|sys)(/| )|run )' | sort; }
snapshot >"$work/rootfs.before"

step "run 1: the image's default command, CLAIR_BUNDLE_DB"
set +e
in_image --env "CLAIR_BUNDLE_DB=$db_url" --env CLAIR_BUNDLE_TERMINATION_LOG=/termination/log \
  "${mounts[@]}" "$ctr" -- "${cmd[@]}" >"$work/run1.out" 2>"$work/run1.err"
rc=$?
set -e
cat "$work/run1.out"
[ $rc = 0 ] || { cat "$work/run1.err" >&2; fail "run 1 exited $rc"; }
grep -q "^clair-bundle: loaded bundle ${digest:0:12} " "$termdir/log" || fail "termination message after run 1 is '$(cat "$termdir/log")'"
! grep -q -F "$pgpass" "$work/run1.out" "$work/run1.err" "$termdir/log" || fail "the password appears in the output"
[ "$(q "SELECT outcome || ' ' || bundle_digest FROM clair_bundle.load_history ORDER BY id DESC LIMIT 1")" = "loaded $digest" ] \
  || fail "load history after run 1: $(q 'SELECT outcome, bundle_digest FROM clair_bundle.load_history')"
rows=$(manifest_field "$work/bundle/manifest.json" 'm.updaters.filter((u) => u.name === "rhel-vex")[0].rows')
linked=$(q "SELECT count(*) FROM uo_vuln l JOIN latest_update_operations o ON o.id = l.uo WHERE o.updater = 'rhel-vex'")
[ "$linked" = "$rows" ] || fail "rhel-vex: $linked vulnerabilities linked to the latest update operation, the bundle has $rows"
[ "$(q "SELECT count(*) FROM clair_bundle.mapping_document")" -ge 1 ] || fail "no mapping document loaded"
before=$(q "SELECT (SELECT count(*) FROM vuln) || ' ' || (SELECT count(*) FROM update_operation) || ' ' || (SELECT count(*) FROM uo_vuln)")

step "run 2: same image, Clair's config mounted (CLAIR_CONF) -> unchanged"
: >"$termdir/log"
set +e
in_image --env CLAIR_CONF=/clair/config.yaml --env CLAIR_BUNDLE_TERMINATION_LOG=/termination/log \
  "${mounts[@]}" "$ctr" -- "${cmd[@]}" >"$work/run2.out" 2>"$work/run2.err"
rc=$?
set -e
cat "$work/run2.out"
[ $rc = 0 ] || { cat "$work/run2.err" >&2; fail "run 2 exited $rc"; }
grep -q "^clair-bundle: unchanged bundle ${digest:0:12} " "$termdir/log" || fail "termination message after run 2 is '$(cat "$termdir/log")'"
grep -q -w unchanged "$work/run2.out" || fail "run 2 does not report 'unchanged'"
[ "$(q "SELECT outcome FROM clair_bundle.load_history ORDER BY id DESC LIMIT 1")" = unchanged ] || fail "load history after run 2"
[ "$(q "SELECT count(*) FROM clair_bundle.load_history")" = 2 ] || fail "expected 2 load history rows"
after=$(q "SELECT (SELECT count(*) FROM vuln) || ' ' || (SELECT count(*) FROM update_operation) || ' ' || (SELECT count(*) FROM uo_vuln)")
[ "$after" = "$before" ] || fail "run 2 changed Clair's tables: vuln/update_operation/uo_vuln $before -> $after"

step "the container wrote nothing outside /tmp"
snapshot >"$work/rootfs.after"
diff "$work/rootfs.before" "$work/rootfs.after" >&2 || fail "the root filesystem changed during the runs (diff above)"

# ---------------------------------------------------------------------------------------------
if [ "${CLAIR_BUNDLE_IMAGE_TEST_FETCH:-1}" != 0 ]; then
  step "MODE=fetch: feeds served on 127.0.0.1, fetched inside the build"
  feed_port=$(free_port)
  # Serves samples/mirror in the upstream layout with the ETag/Last-Modified its fetch record
  # holds (rhel-vex decides archive vs. loose documents by those dates).
  node -e '
    const http = require("node:http"), fs = require("node:fs"), path = require("node:path");
    const root = path.resolve(process.argv[1]);
    const headers = new Map();
    for (const f of fs.readdirSync(path.join(root, ".fetch"))) {
      const rec = JSON.parse(fs.readFileSync(path.join(root, ".fetch", f), "utf8"));
      for (const e of rec.files) headers.set(`/${rec.feed}/${e.path}`, { etag: e.etag, "last-modified": e.lastModified });
    }
    http.createServer((req, res) => {
      const u = decodeURIComponent(new URL(req.url, "http://x").pathname);
      const p = path.join(root, u);
      if (!p.startsWith(root + path.sep) || !fs.existsSync(p) || !fs.statSync(p).isFile()) return res.writeHead(404).end();
      const h = Object.fromEntries(Object.entries(headers.get(u) ?? {}).filter(([, v]) => v));
      res.writeHead(200, { ...h, "content-length": fs.statSync(p).size });
      if (req.method === "HEAD") return res.end();
      fs.createReadStream(p).pipe(res);
    }).listen(Number(process.argv[2]), "127.0.0.1");
  ' samples/mirror "$feed_port" &
  feed_pid=$!
  for _ in $(seq 50); do node -e 'require("net").connect(Number(process.argv[1]),"127.0.0.1").on("connect",()=>process.exit(0)).on("error",()=>process.exit(1))' "$feed_port" && break; sleep 0.1; done
  fetched=localhost/clair-bundle:image-test-fetch
  deploy/build-image.sh -t "$fetched" --pull=never --isolation chroot \
    --build-arg NODE_IMAGE="$base" --build-arg MODE=fetch --build-arg SOURCES="rhel-vex rhel-mappings" \
    --build-arg FEED_URLS="rhel-vex=http://127.0.0.1:$feed_port/rhel-vex/ rhel-mappings=http://127.0.0.1:$feed_port/rhel-mappings/" \
    -f Containerfile . >"$work/build-fetch.log" 2>&1 \
    || { tail -n 40 "$work/build-fetch.log" >&2; fail "image build (MODE=fetch) failed; log above"; }
  kill "$feed_pid"; feed_pid=
  fctr=$(bh from --pull=never "$fetched")
  containers+=("$fctr")
  fdigest=$(label "$fetched" io.clair-bundle.bundle.digest)
  [[ "$fdigest" =~ ^[0-9a-f]{64}$ ]] || fail "MODE=fetch image has no digest label"
  # Same upstream files -> the same rows: compare every updater's fingerprint and row count.
  want=$(manifest_field "$work/bundle/manifest.json" 'JSON.stringify(m.updaters.map((u) => [u.name, u.rows, u.fingerprint]))')
  got=$(in_image "$fctr" -- node -p 'const m=require("/bundle/manifest.json"); if (m.digest !== process.argv[1]) throw new Error("label/manifest digest differ"); JSON.stringify(m.updaters.map((u) => [u.name, u.rows, u.fingerprint]))' "$fdigest") \
    || fail "reading /bundle/manifest.json of the MODE=fetch image"
  [ "$got" = "$want" ] || fail "MODE=fetch bundle differs from the baked one: $got vs $want"
  grep -q "127.0.0.1:$feed_port" <(in_image "$fctr" -- node -p 'JSON.stringify(require("/bundle/manifest.json").sources)') \
    || fail "MODE=fetch bundle does not record the fetch URLs"
fi

step "done: image $image is $size"
