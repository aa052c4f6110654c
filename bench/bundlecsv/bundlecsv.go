// Package bundlecsv reads a clair-bundle bundle (manifest.json and its CSV files) for the Go
// helpers of the benchmark (bench/claircore, bench/clairctl), which hand the rows to two different
// claircore versions. It knows the bundle's columns and literals and nothing of claircore: each
// helper maps a Vuln to its own version's types.
package bundlecsv

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Updater is one entry of the manifest's updaters.
type Updater struct {
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	Fingerprint string `json:"fingerprint"`
	Rows        int    `json:"rows"`
	File        string `json:"file"`
	Aliases     *struct {
		File string `json:"file"`
	} `json:"aliases"`
}

// Manifest is the part of manifest.json the helpers read.
type Manifest struct {
	Updaters []Updater `json:"updaters"`
}

// ReadManifest reads BUNDLE/manifest.json.
func ReadManifest(bundle string) (Manifest, error) {
	var m Manifest
	raw, err := os.ReadFile(filepath.Join(bundle, "manifest.json"))
	if err != nil {
		return m, err
	}
	err = json.Unmarshal(raw, &m)
	return m, err
}

// Open opens a bundle CSV file, past its header row; the caller closes the file.
func Open(path string) (*csv.Reader, *os.File, error) {
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

// Vuln is one row of a vulnerability CSV (columns: hash, updater, name, description, issued,
// links, severity, normalized_severity, package_name, package_version, package_module,
// package_arch, package_kind, dist_id, dist_name, dist_version, dist_version_code_name,
// dist_version_id, dist_arch, dist_cpe, dist_pretty_name, repo_name, repo_key, repo_uri,
// fixed_in_version, arch_operation, version_kind, vulnerable_range, not_vulnerable).
type Vuln struct {
	Updater, Name, Description, Links, Severity, NormalizedSeverity                                      string
	Issued                                                                                               time.Time
	PackageName, PackageVersion, PackageModule, PackageArch, PackageKind                                 string
	DistID, DistName, DistVersion, DistVersionCodeName, DistVersionID, DistArch, DistCPE, DistPrettyName string
	RepoName, RepoKey, RepoURI                                                                           string
	FixedInVersion, ArchOperation, VersionKind                                                           string
	// Range is nil for no range (an empty field, or `empty` as Clair stores it).
	Range         *[2][10]int32
	NotVulnerable bool
}

// HasDist and HasRepo: whether the row has a distribution / repository at all.
func (v Vuln) HasDist() bool {
	return v.DistID+v.DistName+v.DistVersion+v.DistVersionCodeName+v.DistVersionID+v.DistArch+v.DistCPE+v.DistPrettyName != ""
}
func (v Vuln) HasRepo() bool { return v.RepoName+v.RepoKey+v.RepoURI != "" }

// ParseVuln reads one vulnerability CSV record.
func ParseVuln(r []string) (Vuln, error) {
	if len(r) != 29 {
		return Vuln{}, fmt.Errorf("%d fields, expected 29", len(r))
	}
	issued, err := time.Parse(time.RFC3339Nano, r[4])
	if err != nil {
		return Vuln{}, err
	}
	v := Vuln{
		Updater: r[1], Name: r[2], Description: r[3], Issued: issued, Links: r[5], Severity: r[6], NormalizedSeverity: r[7],
		PackageName: r[8], PackageVersion: r[9], PackageModule: r[10], PackageArch: r[11], PackageKind: r[12],
		DistID: r[13], DistName: r[14], DistVersion: r[15], DistVersionCodeName: r[16], DistVersionID: r[17], DistArch: r[18],
		DistCPE: r[19], DistPrettyName: r[20], RepoName: r[21], RepoKey: r[22], RepoURI: r[23],
		FixedInVersion: r[24], ArchOperation: r[25], VersionKind: r[26], NotVulnerable: r[28] == "t",
	}
	if r[27] != "" && r[27] != "empty" {
		rng, err := parseRange(r[27])
		if err != nil {
			return Vuln{}, err
		}
		v.Range = &rng
	}
	return v, nil
}

// parseRange reads `["{0,…}","{…}")`.
func parseRange(s string) (rng [2][10]int32, err error) {
	parts := strings.Split(strings.Trim(s, `[)"`), `","`)
	if len(parts) != 2 {
		return rng, fmt.Errorf("bad range %q", s)
	}
	for i, p := range parts {
		nums := strings.Split(strings.Trim(p, "{}"), ",")
		if len(nums) != 10 {
			return rng, fmt.Errorf("bad range %q", s)
		}
		for j, x := range nums {
			n, err := strconv.ParseInt(x, 10, 32)
			if err != nil {
				return rng, err
			}
			rng[i][j] = int32(n)
		}
	}
	return rng, nil
}

// ParseTextArray reads the `{"a","b"}` literal the bundle writes for enrichment tags (every
// element quoted).
func ParseTextArray(s string) ([]string, error) {
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
