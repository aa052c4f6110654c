package main

import (
	"context"
	"sort"

	"github.com/quay/claircore/libvuln/driver"
	"github.com/quay/claircore/rhel/vex"
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
