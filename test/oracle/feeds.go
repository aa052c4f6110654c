package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/quay/claircore/alpine"
	"github.com/quay/claircore/aws"
	"github.com/quay/claircore/debian"
	"github.com/quay/claircore/enricher/cvss"
	"github.com/quay/claircore/enricher/epss"
	"github.com/quay/claircore/enricher/kev"
	"github.com/quay/claircore/libvuln/driver"
	"github.com/quay/claircore/oracle"
	"github.com/quay/claircore/photon"
	"github.com/quay/claircore/rhel/vex"
	"github.com/quay/claircore/suse"
	"github.com/quay/claircore/ubuntu"
	"github.com/quay/claircore/updater/osv"
)

// feed describes one claircore updater set (Clair's updaters.sets name) and
// how to point it at the local mirror.
type feed struct {
	// New constructs claircore's own UpdaterSetFactory.
	New func(context.Context) (driver.UpdaterSetFactory, error)
	// Config returns the configuration block (what Clair reads from
	// updaters.config.<name>) for the factory (name == set name) and for
	// each updater the set produces (name == updater name), given the
	// mirror's base URL (no trailing slash). nil means "no block"; the
	// updater then keeps its defaults, exactly like Clair without config.
	Config func(base, name string) any
}

// feeds is the registry: one entry per updater set. To add a set, add one
// line here, e.g.
//
//	"alpine": {factoryOf(alpine.NewFactory), urlBlock("alpine", "/alpine-secdb/")},
//
// Paths are relative to the mirror root (see fixtures/feeds/PROVENANCE.md).
var feeds = map[string]feed{
	// rhel/vex: FactoryConfig{url, compressed_file_timeout} and
	// UpdaterConfig{url}; set name == updater name == "rhel-vex", so one
	// block configures both (as in Clair).
	"rhel-vex": {static(func() driver.UpdaterSetFactory { return new(vex.Factory) }), urlBlock("rhel-vex", "/rhel-vex/csaf/v2/vex/")},
	"alpine":   {factoryOf(alpine.NewFactory), urlBlock("alpine", "/alpine-secdb/")},
	"debian": {factoryOf(debian.NewFactory), func(base, n string) any {
		return map[string]any{"debian": map[string]any{"mirror_url": base + "/deb.debian.org/", "json_url": base + "/debian-security-tracker/tracker/data/json"}}[n]
	}},
	// ubuntu: FactoryConfig{url (Launchpad API), name, force} and UpdaterConfig{url, use_bzip2}.
	// The factory HEADs https://security-metadata.canonical.com/oval/... for every active
	// series (not configurable, so refused here) and needs <url>ubuntu/series, which the
	// fixture mirror lacks: runs need a series list with no active entry plus
	// --config ubuntu='{"url":"{{mirror}}/<dir>/","force":[{"name":"bionic","version":"18.04"}]}'.
	"ubuntu": {factoryOf(ubuntu.NewFactory), ubuntuBlocks},
	// osv: FactoryConfig{url, allowlist}, UpdaterConfig{url}. The factory reads
	// /ecosystems.txt at the server root (it replaces the URL path), the dumps under url.
	"osv": {static(func() driver.UpdaterSetFactory { return new(osv.Factory) }), urlBlock("osv", "/osv/")},
	// suse: FactoryConfig{url}. The factory GETs the directory page (the mirror serves DIR/index.html)
	// and makes one updater per SLES / Leap >= 15.5 .xml.gz it links, each fetching base+href (gzip).
	"suse": {static(func() driver.UpdaterSetFactory { return new(suse.Factory) }), urlBlock("suse", "/suse-oval/pub/projects/security/oval/")},
	// oracle, photon: fixed sets (oracle-2007..<this year>-updater, photon-updater-1.0..5.0) with no
	// factory config; each updater gets UpdaterConfig{url} at its file in the mirror, and updaters
	// whose file the mirror lacks are left out of the run (see presentFactory).
	"oracle": {present(funcSet(oracle.UpdaterSet), oracleFile), fileBlocks("oracle", oracleFile)},
	"photon": {present(funcSet(photon.UpdaterSet), photonFile), fileBlocks("photon", photonFile)},
	// aws: claircore has no configuration for it (the mirror-list URLs are constants), so awsFactory
	// hands its updaters a client that sends https://cdn.amazonlinux.com/ and
	// http://repo.us-west-2.amazonaws.com/ to /aws-alas/ (fixtures PROVENANCE.md), and leaves out a
	// release whose mirror list the mirror does not have (clair-bundle's fetch records it absent and
	// builds no updater for it, as a failing claircore updater writes nothing).
	"aws": {func(context.Context) (driver.UpdaterSetFactory, error) { return new(awsFactory), nil }, func(base, n string) any {
		return map[string]any{"aws": map[string]any{"mirror": base}}[n]
	}},
	// Enrichers: Clair registers clair.cvss as a static set; epss and kev only have factories for
	// embedders. Set name == updater name, so one block configures each. clair.cvss requests every
	// year from 2002 to now (the fixtures hold 2021 only, so its runs fail there).
	"clair.cvss": {static(func() driver.UpdaterSetFactory {
		s := driver.NewUpdaterSet()
		_ = s.Add(new(cvss.Enricher))
		return driver.StaticSet(s)
	}), func(base, n string) any {
		return map[string]any{"clair.cvss": map[string]any{"feed_root": base + "/nvd/feeds/json/cve/2.0/"}}[n]
	}},
	"clair.epss": {static(epss.NewFactory), func(base, n string) any {
		return map[string]any{"clair.epss": map[string]any{"url": base + "/epss/epss_scores-2023-03-07.csv.gz"}}[n]
	}},
	"clair.kev": {static(kev.NewFactory), func(base, n string) any {
		return map[string]any{"clair.kev": map[string]any{"feed_root": base + "/cisa-kev/sites/default/files/feeds/known_exploited_vulnerabilities.json"}}[n]
	}},
}

// awsHosts are the upstream prefixes the aws updaters use, all served under /aws-alas/.
var awsHosts = []string{"https://cdn.amazonlinux.com/", "http://repo.us-west-2.amazonaws.com/"}

// awsMirrorLists are claircore's (unexported) mirror-list URLs per updater.
var awsMirrorLists = map[string]string{
	"aws-AL1-updater":    "http://repo.us-west-2.amazonaws.com/2018.03/updates/x86_64/mirror.list",
	"aws-AL2-updater":    "https://cdn.amazonlinux.com/2/core/latest/x86_64/mirror.list",
	"aws-AL2023-updater": "https://cdn.amazonlinux.com/al2023/core/mirrors/latest/x86_64/mirror.list",
}

// awsRewrite sends requests for the aws upstream hosts to the mirror's /aws-alas/.
type awsRewrite struct {
	mirror *url.URL
	next   http.RoundTripper
}

func (t awsRewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	for _, h := range awsHosts {
		if rest, ok := strings.CutPrefix(r.URL.String(), h); ok {
			u, err := url.Parse(t.mirror.String() + "/aws-alas/" + rest)
			if err != nil {
				return nil, err
			}
			r = r.Clone(r.Context())
			r.URL, r.Host = u, ""
			break
		}
	}
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(r)
}

// awsFactory is aws.UpdaterSet pointed at the mirror (see the "aws" entry).
type awsFactory struct {
	client *http.Client
}

func (f *awsFactory) Configure(_ context.Context, cfg driver.ConfigUnmarshaler, c *http.Client) error {
	var b struct {
		Mirror string `json:"mirror"`
	}
	if err := cfg(&b); err != nil {
		return err
	}
	u, err := url.Parse(b.Mirror)
	if err != nil || b.Mirror == "" {
		return fmt.Errorf("aws: bad mirror %q: %v", b.Mirror, err)
	}
	f.client = &http.Client{Transport: awsRewrite{mirror: u, next: c.Transport}}
	return nil
}

func (f *awsFactory) UpdaterSet(ctx context.Context) (driver.UpdaterSet, error) {
	out := driver.NewUpdaterSet()
	set, err := aws.UpdaterSet(ctx)
	if err != nil {
		return out, err
	}
	if f.client == nil {
		return out, fmt.Errorf("aws: factory not configured")
	}
	for _, u := range set.Updaters() {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, awsMirrorLists[u.Name()], nil)
		if err != nil {
			return out, err
		}
		res, err := f.client.Do(req)
		if err != nil {
			return out, err
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode == http.StatusNotFound {
			slog.WarnContext(ctx, "aws: the mirror has no mirror list for this release; updater left out", "updater", u.Name())
			continue
		}
		if err := out.Add(awsUpdater{u, f.client}); err != nil {
			return out, err
		}
	}
	return out, nil
}

// awsUpdater configures the wrapped claircore updater with the rewriting client.
type awsUpdater struct {
	driver.Updater
	client *http.Client
}

func (u awsUpdater) Configure(ctx context.Context, cfg driver.ConfigUnmarshaler, _ *http.Client) error {
	if c, ok := u.Updater.(driver.Configurable); ok {
		return c.Configure(ctx, cfg, u.client)
	}
	return nil
}

// static adapts a constructor that cannot fail.
func static(f func() driver.UpdaterSetFactory) func(context.Context) (driver.UpdaterSetFactory, error) {
	return func(context.Context) (driver.UpdaterSetFactory, error) { return f(), nil }
}

// factoryOf adapts constructors of the form NewFactory(ctx) (*T, error).
func factoryOf[T driver.UpdaterSetFactory](f func(context.Context) (T, error)) func(context.Context) (driver.UpdaterSetFactory, error) {
	return func(ctx context.Context) (driver.UpdaterSetFactory, error) {
		v, err := f(ctx)
		if err != nil {
			return nil, err
		}
		return v, nil
	}
}

// funcSet adapts plain UpdaterSet functions (aws, oracle, photon).
func funcSet(f func(context.Context) (driver.UpdaterSet, error)) func(context.Context) (driver.UpdaterSetFactory, error) {
	return static(func() driver.UpdaterSetFactory { return driver.UpdaterSetFactoryFunc(f) })
}

// urlBlock configures {"url": base+rel} for the block called name only.
func urlBlock(name, rel string) func(base, n string) any {
	return func(base, n string) any {
		if n != name {
			return nil
		}
		return map[string]any{"url": base + rel}
	}
}

// ubuntuBlocks points the Launchpad API at /ubuntu-launchpad/ and each (forced) updater at
// its plain OVAL file under /ubuntu-oval/oval/.
func ubuntuBlocks(base, n string) any {
	if n == "ubuntu" {
		return map[string]any{"url": base + "/ubuntu-launchpad/"}
	}
	if r, ok := strings.CutPrefix(n, "ubuntu/updater/"); ok {
		return map[string]any{"url": base + "/ubuntu-oval/oval/com.ubuntu." + r + ".cve.oval.xml", "use_bzip2": false}
	}
	return nil
}

// oracleFile is the mirror path of an oracle-<year>-updater's file.
func oracleFile(n string) string {
	y, ok := strings.CutPrefix(n, "oracle-")
	if y, ok2 := strings.CutSuffix(y, "-updater"); ok && ok2 {
		return "/oracle-oval/security/oval/com.oracle.elsa-" + y + ".xml.bz2"
	}
	return ""
}

// photonFile is the mirror path of a photon-updater-<N>.0 (v1.5.48: photon-updater-photon<N>) file.
func photonFile(n string) string {
	r, ok := strings.CutPrefix(n, "photon-updater-")
	if !ok {
		return ""
	}
	if !strings.HasPrefix(r, "photon") {
		r = "photon" + strings.TrimSuffix(r, ".0")
	}
	return "/photon-oval/photon/photon_oval_definitions/com.vmware.phsa-" + r + ".xml"
}

// fileBlocks gives the set's block {"mirror": base} (read by presentFactory) and each updater's
// UpdaterConfig{url} at its file in the mirror.
func fileBlocks(set string, file func(string) string) func(base, n string) any {
	return func(base, n string) any {
		if n == set {
			return map[string]any{"mirror": base}
		}
		if rel := file(n); rel != "" {
			return map[string]any{"url": base + rel}
		}
		return nil
	}
}

// presentFactory is a claircore updater set without the updaters whose file the mirror does not
// have (HEAD answers 404). claircore fails such an updater every run (no update operation, no
// rows; clair-bundle records the file absent and builds no updater either), and a failed updater
// fails the oracle's run, so they are reported on stderr and left out.
type presentFactory struct {
	inner driver.UpdaterSetFactory
	file  func(string) string
	base  string
	c     *http.Client
}

func present(f func(context.Context) (driver.UpdaterSetFactory, error), file func(string) string) func(context.Context) (driver.UpdaterSetFactory, error) {
	return func(ctx context.Context) (driver.UpdaterSetFactory, error) {
		inner, err := f(ctx)
		if err != nil {
			return nil, err
		}
		return &presentFactory{inner: inner, file: file}, nil
	}
}

func (p *presentFactory) Configure(ctx context.Context, cf driver.ConfigUnmarshaler, c *http.Client) error {
	var cfg struct {
		Mirror string `json:"mirror"`
	}
	if err := cf(&cfg); err != nil {
		return err
	}
	p.base, p.c = cfg.Mirror, c
	if inner, ok := p.inner.(driver.Configurable); ok {
		return inner.Configure(ctx, cf, c)
	}
	return nil
}

func (p *presentFactory) UpdaterSet(ctx context.Context) (driver.UpdaterSet, error) {
	set, err := p.inner.UpdaterSet(ctx)
	if err != nil || p.c == nil || p.base == "" {
		return set, err
	}
	out := driver.NewUpdaterSet()
	for _, u := range set.Updaters() {
		if rel := p.file(u.Name()); rel != "" {
			req, err := http.NewRequestWithContext(ctx, http.MethodHead, p.base+rel, nil)
			if err != nil {
				return out, err
			}
			res, err := p.c.Do(req)
			if err != nil {
				return out, err
			}
			res.Body.Close()
			if res.StatusCode == http.StatusNotFound {
				slog.WarnContext(ctx, "the mirror lacks this updater's file; updater left out", "updater", u.Name(), "path", rel)
				continue
			}
		}
		if err := out.Add(u); err != nil {
			return out, err
		}
	}
	return out, nil
}

var _ = factoryOf[*vex.Factory] // keep the helpers compiled even when unused
var _ = funcSet

func feedNames() []string {
	out := make([]string, 0, len(feeds))
	for k := range feeds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
