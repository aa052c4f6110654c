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
	"bufio"
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
	"strconv"
	"strings"
	"time"
	"unique"

	"github.com/quay/claircore"
	"github.com/quay/claircore/datastore/postgres"
	"github.com/quay/claircore/libvuln/driver"
	"github.com/quay/claircore/toolkit/types"
	"github.com/quay/claircore/toolkit/types/cpe"
)

type manifestUpdater struct {
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	Fingerprint string `json:"fingerprint"`
	Rows        int    `json:"rows"`
	File        string `json:"file"`
	Aliases     *struct {
		File string `json:"file"`
	} `json:"aliases"`
}

type manifest struct {
	Updaters []manifestUpdater `json:"updaters"`
}

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
	raw, err := os.ReadFile(filepath.Join(bundle, "manifest.json"))
	if err != nil {
		return err
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
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

func openCSV(path string) (*csv.Reader, *os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	r := csv.NewReader(bufio.NewReaderSize(f, 1<<20))
	r.ReuseRecord = false
	if _, err := r.Read(); err != nil { // header
		f.Close()
		return nil, nil, err
	}
	return r, f, nil
}

// vulnIter yields the vuln CSV rows as claircore.Vulnerability, with Self/Aliases merged in from
// the alias CSV (both files are sorted by hash). claircore recomputes the hash itself.
// The iterator runs more than once for a delta updater; UpdateVulnerabilitiesIter is not one.
func vulnIter(bundle string, u manifestUpdater, n *int) (func(yield func(*claircore.Vulnerability, error) bool), *error) {
	var iterErr error
	return func(yield func(*claircore.Vulnerability, error) bool) {
		vr, vf, err := openCSV(filepath.Join(bundle, u.File))
		if err != nil {
			iterErr = err
			return
		}
		defer vf.Close()
		var ar *csv.Reader
		if u.Aliases != nil {
			r, af, err := openCSV(filepath.Join(bundle, u.Aliases.File))
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

// Columns: hash, updater, name, description, issued, links, severity, normalized_severity,
// package_name, package_version, package_module, package_arch, package_kind, dist_id, dist_name,
// dist_version, dist_version_code_name, dist_version_id, dist_arch, dist_cpe, dist_pretty_name,
// repo_name, repo_key, repo_uri, fixed_in_version, arch_operation, version_kind,
// vulnerable_range, not_vulnerable.
func toVuln(r []string) (*claircore.Vulnerability, error) {
	issued, err := time.Parse(time.RFC3339Nano, r[4])
	if err != nil {
		return nil, err
	}
	v := &claircore.Vulnerability{
		Updater: r[1], Name: r[2], Description: r[3], Issued: issued, Links: r[5], Severity: r[6],
		Package: &claircore.Package{Name: r[8], Version: r[9], Module: r[10], Arch: r[11], Kind: packageKind(r[12])},
		FixedInVersion: r[24], Invert: r[28] == "t",
	}
	if err := v.NormalizedSeverity.UnmarshalText([]byte(r[7])); err != nil {
		return nil, err
	}
	if err := v.ArchOperation.UnmarshalText([]byte(r[25])); err != nil {
		return nil, err
	}
	if strings.Join(r[13:21], "") != "" {
		d := &claircore.Distribution{DID: r[13], Name: r[14], Version: r[15], VersionCodeName: r[16], VersionID: r[17], Arch: r[18], PrettyName: r[20]}
		if r[19] != "" {
			if d.CPE, err = cpe.Unbind(r[19]); err != nil {
				return nil, err
			}
		}
		v.Dist = d
	}
	if r[21]+r[22]+r[23] != "" {
		v.Repo = &claircore.Repository{Name: r[21], Key: r[22], URI: r[23]}
	}
	if r[27] != "" && r[27] != "empty" { // "empty": no range (Clair's column default)
		lo, hi, err := parseRange(r[27])
		if err != nil {
			return nil, err
		}
		v.Range = &claircore.Range{Lower: claircore.Version{Kind: r[26], V: lo}, Upper: claircore.Version{Kind: r[26], V: hi}}
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

// parseRange reads `["{0,…}","{…}")`.
func parseRange(s string) (lo, hi [10]int32, err error) {
	parts := strings.Split(strings.Trim(s, `[)"`), `","`)
	if len(parts) != 2 {
		return lo, hi, fmt.Errorf("bad range %q", s)
	}
	for i, p := range parts {
		nums := strings.Split(strings.Trim(p, "{}"), ",")
		if len(nums) != 10 {
			return lo, hi, fmt.Errorf("bad range %q", s)
		}
		for j, x := range nums {
			n, err := strconv.ParseInt(x, 10, 32)
			if err != nil {
				return lo, hi, err
			}
			if i == 0 {
				lo[j] = int32(n)
			} else {
				hi[j] = int32(n)
			}
		}
	}
	return lo, hi, nil
}

func enrichmentIter(bundle string, u manifestUpdater, n *int) (func(yield func(*driver.EnrichmentRecord, error) bool), *error) {
	var iterErr error
	return func(yield func(*driver.EnrichmentRecord, error) bool) {
		r, f, err := openCSV(filepath.Join(bundle, u.File))
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
			tags, err := parseTextArray(rec[2])
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

// parseTextArray reads the `{"a","b"}` literal the bundle writes (every element quoted).
func parseTextArray(s string) ([]string, error) {
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return nil, fmt.Errorf("bad text[] %q", s)
	}
	var out []string
	body := s[1 : len(s)-1]
	for i := 0; i < len(body); {
		if body[i] == ',' {
			i++
			continue
		}
		if body[i] != '"' {
			return nil, fmt.Errorf("bad text[] %q", s)
		}
		var b strings.Builder
		i++
		for ; i < len(body) && body[i] != '"'; i++ {
			if body[i] == '\\' && i+1 < len(body) {
				i++
			}
			b.WriteByte(body[i])
		}
		i++
		out = append(out, b.String())
	}
	return out, nil
}

