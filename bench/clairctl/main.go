// Command clairctl-export prepares the input of the "real clairctl" steps of `npm run bench --
// --clairctl`: it converts a clair-bundle bundle into the file `clairctl import-updaters` reads,
// i.e. what `clairctl export-updaters` writes. The file is written by claircore's own
// libvuln/jsonblob store at v1.5.48 (the claircore of Clair v4.9.0): every updater of the
// manifest becomes one update operation (UpdateVulnerabilities / UpdateEnrichments with the
// manifest's fingerprint), then jsonblob.Store writes them out. Only this glue is ours;
// claircore is a module dependency.
//
// claircore v1.5.48 has no aliases and no "not vulnerable" records: alias files are not read,
// and records with not_vulnerable = t are left out (as our loader does on schema 16).
//
// clairctl import-updaters of Clair v4.9.0 cannot store a record that has a version range: it
// connects with a plain pgxpool, without claircore's hook that registers the versionrange type,
// and pgx fails with "cannot find encode plan". --ranges picks what to do with such records:
// keep (the real export; import fails on the first such entry), drop (keep the record, leave out
// its range: the file clairctl can import, with the same number of records), only (nothing but
// the records with a range: to show that the failure still happens).
//
// Usage: clairctl-export [--ranges keep|drop|only] --out FILE BUNDLE_DIR   (JSON summary on stdout;
// set TMPDIR: jsonblob spools every update operation to a temporary file first)
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"clair-bundle/bench/bundlecsv"
	"github.com/quay/claircore"
	"github.com/quay/claircore/libvuln/driver"
	"github.com/quay/claircore/libvuln/jsonblob"
	"github.com/quay/claircore/pkg/cpe"
)

func main() {
	out := flag.String("out", "", "output file (uncompressed JSON lines)")
	ranges := flag.String("ranges", "keep", "records with a version range: keep, drop (the range) or only")
	flag.Parse()
	if *out == "" || flag.NArg() != 1 || (*ranges != "keep" && *ranges != "drop" && *ranges != "only") {
		fmt.Fprintln(os.Stderr, "usage: clairctl-export [--ranges keep|drop|only] --out FILE BUNDLE_DIR")
		os.Exit(2)
	}
	if err := run(context.Background(), *out, *ranges, flag.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "clairctl-export:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out, ranges, bundle string) error {
	started := time.Now()
	m, err := bundlecsv.ReadManifest(bundle)
	if err != nil {
		return err
	}
	store, err := jsonblob.New()
	if err != nil {
		return err
	}
	var vulns, enrichments, notVulnerable, empty, withRange int
	perUpdater := map[string]int{}
	for _, u := range m.Updaters {
		fp := driver.Fingerprint(u.Fingerprint)
		switch u.Kind {
		case "vulnerability":
			vs, skipped, err := readVulns(filepath.Join(bundle, u.File))
			if err != nil {
				return fmt.Errorf("%s: %w", u.Name, err)
			}
			notVulnerable += skipped
			kept := vs[:0]
			for _, v := range vs {
				if v.Range != nil {
					withRange++
					if ranges == "drop" {
						v.Range = nil
					}
				}
				if ranges != "only" || v.Range != nil {
					kept = append(kept, v)
				}
			}
			vs = kept
			if len(vs) == 0 {
				empty++ // export-updaters writes no lines for an update operation without records
			}
			if _, err := store.UpdateVulnerabilities(ctx, u.Name, fp, vs); err != nil {
				return fmt.Errorf("%s: %w", u.Name, err)
			}
			vulns += len(vs)
			perUpdater[u.Name] = len(vs)
		case "enrichment":
			if ranges == "only" {
				continue
			}
			es, err := readEnrichments(filepath.Join(bundle, u.File))
			if err != nil {
				return fmt.Errorf("%s: %w", u.Name, err)
			}
			if len(es) == 0 {
				empty++
			}
			if _, err := store.UpdateEnrichments(ctx, u.Name, fp, es); err != nil {
				return fmt.Errorf("%s: %w", u.Name, err)
			}
			enrichments += len(es)
			perUpdater[u.Name] = len(es)
		default:
			return fmt.Errorf("%s: unknown kind %q", u.Name, u.Kind)
		}
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := store.Store(w); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	st, err := os.Stat(out)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"seconds": time.Since(started).Seconds(), "bytes": st.Size(), "updaters": len(m.Updaters),
		"vulnerabilities": vulns, "enrichments": enrichments, "not_vulnerable_left_out": notVulnerable,
		"updaters_without_records": empty, "records_per_updater": perUpdater,
		"ranges": ranges, "records_with_range": withRange,
	})
}

// readVulns reads one vulnerability CSV (columns: hash, updater, name, description, issued,
// links, severity, normalized_severity, package_name, package_version, package_module,
// package_arch, package_kind, dist_id, dist_name, dist_version, dist_version_code_name,
// dist_version_id, dist_arch, dist_cpe, dist_pretty_name, repo_name, repo_key, repo_uri,
// fixed_in_version, arch_operation, version_kind, vulnerable_range, not_vulnerable) as
// claircore v1.5.48 Vulnerabilities. The bundle's hash column is not used: clairctl hashes.
func readVulns(path string) ([]*claircore.Vulnerability, int, error) {
	r, f, err := bundlecsv.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	var out []*claircore.Vulnerability
	skipped := 0
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, skipped, nil
		}
		if err != nil {
			return nil, 0, err
		}
		if rec[28] == "t" {
			skipped++
			continue
		}
		v, err := toVuln(rec)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, v)
	}
}

func toVuln(rec []string) (*claircore.Vulnerability, error) {
	r, err := bundlecsv.ParseVuln(rec)
	if err != nil {
		return nil, err
	}
	v := &claircore.Vulnerability{
		Updater: r.Updater, Name: r.Name, Description: r.Description, Issued: r.Issued, Links: r.Links, Severity: r.Severity,
		Package:        &claircore.Package{Name: r.PackageName, Version: r.PackageVersion, Module: r.PackageModule, Arch: r.PackageArch, Kind: r.PackageKind},
		FixedInVersion: r.FixedInVersion,
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

// readEnrichments reads an enrichment CSV (hash, updater, tags, enrichment).
func readEnrichments(path string) ([]driver.EnrichmentRecord, error) {
	r, f, err := bundlecsv.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []driver.EnrichmentRecord
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		tags, err := bundlecsv.ParseTextArray(rec[2])
		if err != nil {
			return nil, err
		}
		out = append(out, driver.EnrichmentRecord{Tags: tags, Enrichment: json.RawMessage(rec[3])})
	}
}
