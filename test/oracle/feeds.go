package main

import (
	"context"
	"sort"
	"strings"

	"github.com/quay/claircore/alpine"
	"github.com/quay/claircore/debian"
	"github.com/quay/claircore/libvuln/driver"
	"github.com/quay/claircore/rhel/vex"
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
