import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';

/**
 * Structural checks of what ships for running the image: deploy/*.yaml (Kubernetes), the
 * Containerfile and its ignore files, the build scripts. No cluster, no network: the real image
 * build and run is test/image/build-and-run.sh.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const read = (p: string) => readFileSync(path.join(ROOT, p), 'utf8');

type Obj = Record<string, any>;

function manifests(file: string): Obj[] {
  const docs = parseAllDocuments(read(file));
  for (const d of docs) expect(d.errors, `${file}: YAML errors`).toEqual([]);
  return docs.map((d) => d.toJS() as Obj).filter((d) => d);
}

const all = readdirSync(path.join(ROOT, 'deploy'))
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => manifests(`deploy/${f}`).map((m) => ({ file: `deploy/${f}`, m })));
const ofKind = (kind: string) => all.filter((x) => x.m.kind === kind);

/** Pod spec of a Job, CronJob or Deployment. */
function podSpec(m: Obj): Obj {
  if (m.kind === 'CronJob') return m.spec.jobTemplate.spec.template.spec;
  return m.spec.template.spec;
}

/** The checks every workload running the image must pass. */
function checkPod(where: string, pod: Obj): void {
  expect(pod.securityContext?.runAsNonRoot, `${where}: pod runAsNonRoot`).toBe(true);
  expect(pod.containers, `${where}: one container`).toHaveLength(1);
  const c = pod.containers[0];
  expect(c.image, `${where}: image`).toMatch(/\/clair-bundle:/);
  expect(c.securityContext?.runAsNonRoot, `${where}: runAsNonRoot`).toBe(true);
  expect(c.securityContext?.readOnlyRootFilesystem, `${where}: readOnlyRootFilesystem`).toBe(true);
  expect(c.securityContext?.allowPrivilegeEscalation, `${where}: allowPrivilegeEscalation`).toBe(false);
  expect(c.securityContext?.capabilities?.drop, `${where}: capabilities dropped`).toEqual(['ALL']);
  expect(c.terminationMessagePolicy, `${where}: terminationMessagePolicy`).toBe('FallbackToLogsOnError');
  for (const kind of ['requests', 'limits']) {
    expect(c.resources?.[kind]?.memory, `${where}: resources.${kind}.memory`).toBeTruthy();
    expect(c.resources?.[kind]?.cpu, `${where}: resources.${kind}.cpu`).toBeTruthy();
  }

  const volumes = new Map<string, Obj>((pod.volumes ?? []).map((v: Obj) => [v.name, v]));
  const mounts = new Map<string, Obj>((c.volumeMounts ?? []).map((m: Obj) => [m.mountPath, m]));
  for (const m of mounts.values()) expect(volumes.has(m.name), `${where}: volume ${m.name} declared`).toBe(true);

  // Writable: only /tmp, an emptyDir.
  const tmp = mounts.get('/tmp');
  expect(tmp, `${where}: /tmp mounted`).toBeTruthy();
  expect(volumes.get(tmp!.name)?.emptyDir, `${where}: /tmp is an emptyDir`).toBeTruthy();

  // Clair's config from the Quay operator's secret, mounted read-only, announced by CLAIR_CONF.
  const conf = (c.env ?? []).find((e: Obj) => e.name === 'CLAIR_CONF');
  expect(conf?.value, `${where}: CLAIR_CONF set`).toMatch(/\/config\.yaml$/);
  const confDir = path.posix.dirname(conf.value);
  const confMount = mounts.get(confDir);
  expect(confMount, `${where}: ${confDir} mounted`).toBeTruthy();
  expect(confMount!.readOnly, `${where}: config mounted read-only`).toBe(true);
  const secret = volumes.get(confMount!.name)?.secret;
  expect(secret?.secretName, `${where}: Quay operator's Clair config secret`).toMatch(/^[a-z0-9-]+-clair-config-secret$/);
  const items: Obj[] | undefined = secret.items;
  if (items) expect(items, `${where}: config.yaml key`).toContainEqual({ key: 'config.yaml', path: path.posix.basename(conf.value) });
}

describe('deploy/ manifests', () => {
  it('parse, and carry the kinds the README promises', () => {
    expect(ofKind('Job')).toHaveLength(1);
    expect(ofKind('CronJob')).toHaveLength(1);
    expect(ofKind('Deployment')).toHaveLength(1);
    expect(ofKind('Service')).toHaveLength(1);
    for (const { file, m } of all) {
      expect(m.apiVersion, `${file}: apiVersion`).toBeTruthy();
      expect(m.metadata?.name, `${file}: metadata.name`).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      expect(m.metadata?.labels?.['app.kubernetes.io/name'], `${file}: name label`).toBe('clair-bundle');
    }
  });

  for (const kind of ['Job', 'CronJob']) {
    it(`${kind}: loads /bundle once, retries only what a retry can fix, reports through the termination message`, () => {
      const [{ file, m }] = ofKind(kind);
      expect(m.apiVersion).toBe('batch/v1');
      const job = kind === 'CronJob' ? m.spec.jobTemplate.spec : m.spec;
      expect(job.backoffLimit, `${file}: backoffLimit`).toBeGreaterThanOrEqual(1);
      expect(job.backoffLimit).toBeLessThanOrEqual(6);
      expect(job.activeDeadlineSeconds, `${file}: activeDeadlineSeconds`).toBeGreaterThan(0);
      const pod = job.template.spec;
      expect(pod.restartPolicy, `${file}: restartPolicy`).toBe('Never');
      checkPod(file, pod);
      const c = pod.containers[0];
      expect(c.args ?? ['load', '/bundle'], `${file}: the image's default command`).toEqual(['load', '/bundle']);
      expect(c.terminationMessagePath ?? '/dev/termination-log').toBe('/dev/termination-log');
      // Exit codes that no retry fixes fail the Job at once (README: exit codes).
      const rule = job.podFailurePolicy?.rules?.find((r: Obj) => r.action === 'FailJob');
      expect(rule?.onExitCodes?.containerName).toBe(c.name);
      expect(rule?.onExitCodes?.operator).toBe('In');
      expect(rule?.onExitCodes?.values).toEqual(expect.arrayContaining([2, 3, 7]));
      for (const retried of [4, 5, 6]) expect(rule.onExitCodes.values).not.toContain(retried);
    });
  }

  it('CronJob: never two at once, a valid schedule, pulls the tag each run', () => {
    const [{ m }] = ofKind('CronJob');
    expect(m.spec.concurrencyPolicy).toBe('Forbid');
    expect(m.spec.schedule.trim().split(/\s+/)).toHaveLength(5);
    expect(m.spec.startingDeadlineSeconds).toBeGreaterThan(0);
    expect(m.spec.jobTemplate.spec.template.spec.containers[0].imagePullPolicy).toBe('Always');
  });

  it('serve-mappings: Deployment + Service agree on labels and port, probe /healthz', () => {
    const [{ file, m: dep }] = ofKind('Deployment');
    const [{ m: svc }] = ofKind('Service');
    const pod = podSpec(dep);
    checkPod(file, pod);
    const c = pod.containers[0];
    expect(c.args[0]).toBe('serve-mappings');
    const listen = c.args[c.args.indexOf('--listen') + 1] as string;
    const port = c.ports.find((p: Obj) => p.name === svc.spec.ports[0].targetPort || p.containerPort === svc.spec.ports[0].targetPort);
    expect(port, 'Service targetPort names a container port').toBeTruthy();
    expect(listen).toBe(`0.0.0.0:${port.containerPort}`);
    expect(dep.spec.selector.matchLabels).toEqual(svc.spec.selector);
    expect(dep.spec.template.metadata.labels).toMatchObject(svc.spec.selector);
    for (const probe of ['readinessProbe', 'livenessProbe']) expect(c[probe]?.httpGet?.path, probe).toBe('/healthz');
    // The URLs the README and `serve-mappings --help` give Clair.
    expect(`http://${svc.metadata.name}:${svc.spec.ports[0].port}/`).toBe('http://clair-bundle-mappings:8080/');
  });
});

describe('Containerfile', () => {
  const lines = read('Containerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: { from: string; name?: string; lines: string[] }[] = [];
  for (const l of lines) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?$/i.exec(l);
    if (from) stages.push({ from: from[1], name: from[2], lines: [] });
    else stages.at(-1)?.lines.push(l);
  }
  const final = stages.at(-1)!;
  const instr = (s: { lines: string[] }, name: string) => s.lines.filter((l) => l.toUpperCase().startsWith(name + ' '));

  it('takes the base image, the mode and the feed sources as build arguments', () => {
    const args = lines.filter((l) => /^ARG\s/i.test(l)).map((l) => l.split(/\s+/)[1].split('=')[0]);
    expect(args).toEqual(expect.arrayContaining(['NODE_IMAGE', 'MODE', 'BAKE_DIR', 'SOURCES', 'FEED_URLS', 'TARGET']));
    expect(lines).toContain('ARG MODE=bake');
    expect(stages.map((s) => s.name)).toEqual(expect.arrayContaining(['build', 'bundle-fetch', 'bundle-bake', 'bundle']));
    // `${MODE:-bake}`: buildah's unused-stage pruning sees only --build-arg values, not ARG defaults.
    expect(stages.find((s) => s.name === 'bundle')!.from).toBe('bundle-${MODE:-bake}');
    expect(final.from).toBe('${NODE_IMAGE}');
    expect(stages.find((s) => s.name === 'build')!.from).toBe('${NODE_IMAGE}');
  });

  it('final stage: tool + /bundle, non-root numeric user, default command load /bundle', () => {
    const user = instr(final, 'USER').at(-1)!.split(/\s+/)[1];
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(Number(user.split(':')[0])).toBeGreaterThan(0);
    expect(JSON.parse(instr(final, 'ENTRYPOINT')[0].slice('ENTRYPOINT'.length))).toEqual(['node', '/opt/clair-bundle/dist/cli/main.cjs']);
    expect(JSON.parse(instr(final, 'CMD')[0].slice('CMD'.length))).toEqual(['load', '/bundle']);
    // The entry point sizes libuv's pool (test/integration/launcher.test.ts); an ENV would only pin it.
    expect(instr(final, 'ENV').join(' ')).not.toMatch(/UV_THREADPOOL_SIZE/);
    const copies = instr(final, 'COPY').map((l) => l.split(/\s+/).slice(1));
    expect(copies.every((c) => c[0].startsWith('--from='))).toBe(true);
    const dests = copies.map((c) => c.at(-1));
    expect(dests).toEqual(expect.arrayContaining(['./package.json', './node_modules', './dist', './sql', '/bundle']));
    expect(instr(final, 'RUN'), 'no RUN in the final stage: it works on any base').toEqual([]);
  });

  it('the build context keeps every file the build copies; .containerignore = .dockerignore', () => {
    const ignore = read('.containerignore');
    expect(read('.dockerignore')).toBe(ignore);
    const patterns = ignore.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    const sources = stages.flatMap((s) => instr(s, 'COPY'))
      .map((l) => l.split(/\s+/).slice(1))
      .filter((c) => !c[0].startsWith('--from='))
      .flatMap((c) => c.slice(0, -1))
      .filter((src) => !src.includes('$'));
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'src', 'sql', 'deploy/image/make-bundle.sh']));
    for (const src of sources) {
      expect(existsSync(path.join(ROOT, src)), `${src} exists`).toBe(true);
      for (const p of patterns) expect(src === p || src.startsWith(p + '/'), `${src} excluded by ${p}`).toBe(false);
    }
    for (const p of patterns) expect(['bundle', 'samples', 'test/image'].some((d) => d === p || d.startsWith(p + '/')), `${p} hides a BAKE_DIR`).toBe(false);
  });

  it('the shell scripts parse', () => {
    execFileSync('sh', ['-n', path.join(ROOT, 'deploy/image/make-bundle.sh')]);
    for (const f of ['deploy/build-image.sh', 'test/image/build-and-run.sh', 'test/image/make-base-image.sh']) {
      execFileSync('bash', ['-n', path.join(ROOT, f)]);
    }
  });
});

describe('README', () => {
  it('names only deploy/ files that exist', () => {
    const named = [...read('README.md').matchAll(/deploy\/[\w./-]+[\w]/g)].map((m) => m[0]);
    expect(named.length).toBeGreaterThan(0);
    for (const p of named) expect(existsSync(path.join(ROOT, p)), p).toBe(true);
  });
});
