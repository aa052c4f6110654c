// Command claircore-writer is the optional "real claircore" baseline of `npm run bench --
// --claircore`: it reads a clair-bundle bundle and hands every updater's records to claircore's
// own PostgreSQL store (v1.5.54: MatcherStore.UpdateVulnerabilitiesIter /
// UpdateEnrichmentsIter), exactly what `clairctl import-updaters` does per entry (§8.4 of
// clair-matcher-db.md), including its fingerprint skip. Only this glue is ours; claircore is a
// module dependency (same versions as test/oracle).
//
// Usage: claircore-writer --db URL BUNDLE_DIR   (JSON summary on stdout)
package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"
	"unique"

	"clair-bundle/bench/bundlecsv"
	"github.com/quay/claircore"
	"github.com/quay/claircore/datastore/postgres"
	"github.com/quay/claircore/libvuln/driver"
	"github.com/quay/claircore/toolkit/types"
	"github.com/quay/claircore/toolkit/types/cpe"
)

type result struct {
	Updater string  `json:"updater"`
	Kind    string  `json:"kind"`
	Action  string  `json:"action"`
	Rows    int     `json:"rows"`
	Seconds float64 `json:"seconds"`
}

func main() {
	db := flag.String("db", "", "matcher database URL")
	flag.Parse()
	if *db == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: claircore-writer --db URL BUNDLE_DIR")
		os.Exit(2)
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err := run(context.Background(), *db, flag.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "claircore-writer:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, db, bundle string) error {
	started := time.Now()
	m, err := bundlecsv.ReadManifest(bundle)
	if err != nil {
		return err
	}
	pool, err := postgres.Connect(ctx, db, "clair-bundle-claircore")
	if err != nil {
		return err
	}
	defer pool.Close()
	// migrations=false: the bench creates the schema (sql/clair-schema), as import-updaters never migrates.
	store, err := postgres.InitPostgresMatcherStore(ctx, pool, false)
	if err != nil {
		return err
	}
	existing := map[string]bool{}
	rows, err := pool.Query(ctx, `SELECT kind, updater, fingerprint FROM update_operation`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var k, u, f string
		if err := rows.Scan(&k, &u, &f); err != nil {
			return err
		}
		existing[k+"\x00"+u+"\x00"+f] = true
	}
	rows.Close()

	var results []result
	for _, u := range m.Updaters {
		t := time.Now()
		if existing[u.Kind+"\x00"+u.Name+"\x00"+u.Fingerprint] {
			results = append(results, result{Updater: u.Name, Kind: u.Kind, Action: "skipped"})
			continue
		}
		n := 0
		switch u.Kind {
		case "vulnerability":
			it, errp := vulnIter(bundle, u, &n)
			if _, err := store.UpdateVulnerabilitiesIter(ctx, u.Name, driver.Fingerprint(u.Fingerprint), it); err != nil {
				return fmt.Errorf("%s: %w", u.Name, err)
			}
			if *errp != nil {
				return fmt.Errorf("%s: %w", u.Name, *errp)
			}
		case "enrichment":
			it, errp := enrichmentIter(bundle, u, &n)
			if _, err := store.UpdateEnrichmentsIter(ctx, u.Name, driver.Fingerprint(u.Fingerprint), it); err != nil {
				return fmt.Errorf("%s: %w", u.Name, err)
			}
			if *errp != nil {
				return fmt.Errorf("%s: %w", u.Name, *errp)
			}
		default:
			return fmt.Errorf("%s: unknown kind %q", u.Name, u.Kind)
		}
		results = append(results, result{Updater: u.Name, Kind: u.Kind, Action: "loaded", Rows: n, Seconds: time.Since(t).Seconds()})
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"seconds": time.Since(started).Seconds(), "updaters": results})
}

// vulnIter yields the vuln CSV rows as claircore.Vulnerability, with Self/Aliases merged in from
// the alias CSV (both files are sorted by hash). claircore recomputes the hash itself.
// The iterator runs more than once for a delta updater; UpdateVulnerabilitiesIter is not one.
func vulnIter(bundle string, u bundlecsv.Updater, n *int) (func(yield func(*claircore.Vulnerability, error) bool), *error) {
	var iterErr error
	return func(yield func(*claircore.Vulnerability, error) bool) {
		vr, vf, err := bundlecsv.Open(filepath.Join(bundle, u.File))
		if err != nil {
			iterErr = err
			return
		}
		defer vf.Close()
		var ar *csv.Reader
		if u.Aliases != nil {
			r, af, err := bundlecsv.Open(filepath.Join(bundle, u.Aliases.File))
			if err != nil {
				iterErr = err
				return
			}
			defer af.Close()
			ar = r
		}
		var pending []string
		for {
			rec, err := vr.Read()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				iterErr = err
				return
			}
			v, err := toVuln(rec)
			if err != nil {
				iterErr = err
				return
			}
			for ar != nil {
				if pending == nil {
					pending, err = ar.Read()
					if errors.Is(err, io.EOF) {
						ar = nil
						break
					}
					if err != nil {
						iterErr = err
						return
					}
				}
				if pending[0] != rec[0] {
					break
				}
				a := claircore.Alias{Space: unique.Make(pending[2]), Name: pending[3]}
				if pending[1] == "self" {
					v.Self = a
				} else {
					v.Aliases = append(v.Aliases, a)
				}
				pending = nil
			}
			*n++
			if !yield(v, nil) {
				return
			}
		}
	}, &iterErr
}

// toVuln maps a bundle row to claircore v1.5.54's Vulnerability.
func toVuln(rec []string) (*claircore.Vulnerability, error) {
	r, err := bundlecsv.ParseVuln(rec)
	if err != nil {
		return nil, err
	}
	v := &claircore.Vulnerability{
		Updater: r.Updater, Name: r.Name, Description: r.Description, Issued: r.Issued, Links: r.Links, Severity: r.Severity,
		Package:        &claircore.Package{Name: r.PackageName, Version: r.PackageVersion, Module: r.PackageModule, Arch: r.PackageArch, Kind: packageKind(r.PackageKind)},
		FixedInVersion: r.FixedInVersion, Invert: r.NotVulnerable,
	}
	if err := v.NormalizedSeverity.UnmarshalText([]byte(r.NormalizedSeverity)); err != nil {
		return nil, err
	}
	if err := v.ArchOperation.UnmarshalText([]byte(r.ArchOperation)); err != nil {
		return nil, err
	}
	if r.HasDist() {
		d := &claircore.Distribution{DID: r.DistID, Name: r.DistName, Version: r.DistVersion, VersionCodeName: r.DistVersionCodeName,
			VersionID: r.DistVersionID, Arch: r.DistArch, PrettyName: r.DistPrettyName}
		if r.DistCPE != "" {
			if d.CPE, err = cpe.Unbind(r.DistCPE); err != nil {
				return nil, err
			}
		}
		v.Dist = d
	}
	if r.HasRepo() {
		v.Repo = &claircore.Repository{Name: r.RepoName, Key: r.RepoKey, URI: r.RepoURI}
	}
	if r.Range != nil {
		v.Range = &claircore.Range{Lower: claircore.Version{Kind: r.VersionKind, V: r.Range[0]}, Upper: claircore.Version{Kind: r.VersionKind, V: r.Range[1]}}
	}
	return v, nil
}

func packageKind(s string) types.PackageKind {
	switch s {
	case "source":
		return types.SourcePackage
	case "binary":
		return types.BinaryPackage
	case "layer":
		return types.LayerPackage
	case "ancestry":
		return types.AncestryPackage
	}
	return types.UnknownPackage
}

func enrichmentIter(bundle string, u bundlecsv.Updater, n *int) (func(yield func(*driver.EnrichmentRecord, error) bool), *error) {
	var iterErr error
	return func(yield func(*driver.EnrichmentRecord, error) bool) {
		r, f, err := bundlecsv.Open(filepath.Join(bundle, u.File))
		if err != nil {
			iterErr = err
			return
		}
		defer f.Close()
		for {
			rec, err := r.Read()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				iterErr = err
				return
			}
			tags, err := bundlecsv.ParseTextArray(rec[2])
			if err != nil {
				iterErr = err
				return
			}
			*n++
			if !yield(&driver.EnrichmentRecord{Tags: tags, Enrichment: json.RawMessage(rec[3])}, nil) {
				return
			}
		}
	}, &iterErr
}
