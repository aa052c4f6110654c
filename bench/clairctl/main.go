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
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/quay/claircore"
	"github.com/quay/claircore/libvuln/driver"
	"github.com/quay/claircore/libvuln/jsonblob"
	"github.com/quay/claircore/pkg/cpe"
)

type manifestUpdater struct {
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	Fingerprint string `json:"fingerprint"`
	File        string `json:"file"`
}

type manifest struct {
	Updaters []manifestUpdater `json:"updaters"`
}

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
	raw, err := os.ReadFile(filepath.Join(bundle, "manifest.json"))
	if err != nil {
		return err
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
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

func openCSV(path string) (*csv.Reader, *os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	r := csv.NewReader(bufio.NewReaderSize(f, 1<<20))
	if _, err := r.Read(); err != nil { // header
		f.Close()
		return nil, nil, err
	}
	return r, f, nil
}

// readVulns reads one vulnerability CSV (columns: hash, updater, name, description, issued,
// links, severity, normalized_severity, package_name, package_version, package_module,
// package_arch, package_kind, dist_id, dist_name, dist_version, dist_version_code_name,
// dist_version_id, dist_arch, dist_cpe, dist_pretty_name, repo_name, repo_key, repo_uri,
// fixed_in_version, arch_operation, version_kind, vulnerable_range, not_vulnerable) as
// claircore v1.5.48 Vulnerabilities. The bundle's hash column is not used: clairctl hashes.
func readVulns(path string) ([]*claircore.Vulnerability, int, error) {
	r, f, err := openCSV(path)
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

func toVuln(r []string) (*claircore.Vulnerability, error) {
	issued, err := time.Parse(time.RFC3339Nano, r[4])
	if err != nil {
		return nil, err
	}
	v := &claircore.Vulnerability{
		Updater: r[1], Name: r[2], Description: r[3], Issued: issued, Links: r[5], Severity: r[6],
		Package:        &claircore.Package{Name: r[8], Version: r[9], Module: r[10], Arch: r[11], Kind: r[12]},
		FixedInVersion: r[24],
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

// readEnrichments reads an enrichment CSV (hash, updater, tags, enrichment).
func readEnrichments(path string) ([]driver.EnrichmentRecord, error) {
	r, f, err := openCSV(path)
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
		tags, err := parseTextArray(rec[2])
		if err != nil {
			return nil, err
		}
		out = append(out, driver.EnrichmentRecord{Tags: tags, Enrichment: json.RawMessage(rec[3])})
	}
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
