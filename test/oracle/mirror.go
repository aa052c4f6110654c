package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// mirrorOptions says how the local mirror server answers.
//
// Upstream servers send ETag and Last-Modified headers and claircore's updaters
// depend on them (rhel-vex: changes.csv/deletions.csv ETags go into the
// fingerprint, and the archive's Last-Modified is the cut-off for changes.csv
// rows). File modification times of a git checkout are meaningless, so the
// Last-Modified policy is explicit.
type mirrorOptions struct {
	Dir string
	// ETag: "sha256" (strong ETag = quoted hex sha256 of the file) or "none".
	ETag string
	// LastModified: "auto" (a YYYY-MM-DD date in the file name, at 00:00:00Z,
	// else the file's mtime), "mtime", "none", or an RFC 3339 time used for
	// every file.
	LastModified string
	// Overrides maps a mirror-relative path to its Last-Modified time.
	Overrides map[string]time.Time
}

func mirrorFlags(fs *flag.FlagSet) (*mirrorOptions, *kvFlag) {
	o := &mirrorOptions{}
	fs.StringVar(&o.Dir, "mirror", "", "directory laid out like an HTTP mirror of upstream (e.g. fixtures/feeds)")
	fs.StringVar(&o.ETag, "etag", "sha256", `ETag header: "sha256" (quoted sha256 of the content) or "none"`)
	fs.StringVar(&o.LastModified, "last-modified", "auto", `Last-Modified header: "auto" (date in file name, else mtime), "mtime", "none", or an RFC 3339 time`)
	ov := &kvFlag{}
	fs.Var(ov, "last-modified-for", "REL_PATH=RFC3339: Last-Modified for one mirror file (repeatable)")
	return o, ov
}

func (o *mirrorOptions) validate(ov kvFlag) error {
	if o.Dir == "" {
		return usagef("--mirror is required")
	}
	st, err := os.Stat(o.Dir)
	if err != nil {
		return configError{fmt.Errorf("mirror: %w", err)}
	}
	if !st.IsDir() {
		return configError{fmt.Errorf("mirror: %s is not a directory", o.Dir)}
	}
	switch o.ETag {
	case "sha256", "none":
	default:
		return usagef("--etag: want sha256 or none, got %q", o.ETag)
	}
	switch o.LastModified {
	case "auto", "mtime", "none":
	default:
		if _, err := time.Parse(time.RFC3339, o.LastModified); err != nil {
			return usagef("--last-modified: %v", err)
		}
	}
	o.Overrides = map[string]time.Time{}
	for _, kv := range ov {
		k, v, _ := strings.Cut(kv, "=")
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return usagef("--last-modified-for %s: %v", k, err)
		}
		o.Overrides[strings.TrimPrefix(path.Clean("/"+k), "/")] = t
	}
	return nil
}

// requestLog is one served request.
type requestLog struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Status int    `json:"status"`
	Bytes  int64  `json:"bytes"`
	// Conditional request headers the client sent.
	IfNoneMatch     string `json:"if_none_match,omitempty"`
	IfModifiedSince string `json:"if_modified_since,omitempty"`
}

type mirrorServer struct {
	opts *mirrorOptions
	srv  *httptest.Server
	log  io.Writer

	mu       sync.Mutex
	requests []requestLog
	etags    map[string]string // path+size+mtime -> etag
	blocked  []string          // outbound connections refused by the client
}

var dateInName = regexp.MustCompile(`(\d{4})-(\d{2})-(\d{2})`)

func (m *mirrorServer) lastModified(rel string, fi fs.FileInfo) time.Time {
	if t, ok := m.opts.Overrides[rel]; ok {
		return t
	}
	switch m.opts.LastModified {
	case "none":
		return time.Time{}
	case "mtime":
		return fi.ModTime()
	case "auto":
		if d := dateInName.FindString(path.Base(rel)); d != "" {
			if t, err := time.Parse("2006-01-02", d); err == nil {
				return t.UTC()
			}
		}
		return fi.ModTime()
	default:
		t, _ := time.Parse(time.RFC3339, m.opts.LastModified)
		return t
	}
}

func (m *mirrorServer) etag(abs string, fi fs.FileInfo) (string, error) {
	key := fmt.Sprintf("%s\x00%d\x00%d", abs, fi.Size(), fi.ModTime().UnixNano())
	m.mu.Lock()
	e, ok := m.etags[key]
	m.mu.Unlock()
	if ok {
		return e, nil
	}
	f, err := os.Open(abs)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	e = `"` + hex.EncodeToString(h.Sum(nil)) + `"`
	m.mu.Lock()
	m.etags[key] = e
	m.mu.Unlock()
	return e, nil
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	n      int64
}

func (s *statusRecorder) WriteHeader(c int) {
	if s.status == 0 {
		s.status = c
	}
	s.ResponseWriter.WriteHeader(c)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.n += int64(n)
	return n, err
}

func (m *mirrorServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w}
	m.serve(rec, r)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	entry := requestLog{
		Method:          r.Method,
		Path:            r.URL.Path,
		Status:          rec.status,
		Bytes:           rec.n,
		IfNoneMatch:     r.Header.Get("If-None-Match"),
		IfModifiedSince: r.Header.Get("If-Modified-Since"),
	}
	m.mu.Lock()
	m.requests = append(m.requests, entry)
	m.mu.Unlock()
	if m.log != nil {
		logf(m.log, "mirror: %s %s -> %d (%d bytes)", r.Method, r.URL.Path, rec.status, rec.n)
	}
}

func (m *mirrorServer) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	rel := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	abs := filepath.Join(m.opts.Dir, filepath.FromSlash(rel))
	fi, err := os.Stat(abs)
	if err == nil && fi.IsDir() {
		// Upstream directory URLs that are real pages (e.g. SUSE's OVAL
		// index) are stored as DIR/index.html; there are no generated
		// directory listings.
		rel = path.Join(rel, "index.html")
		abs = filepath.Join(abs, "index.html")
		fi, err = os.Stat(abs)
	}
	if err != nil || !fi.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(abs)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer f.Close()
	if m.opts.ETag == "sha256" {
		e, err := m.etag(abs, fi)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("ETag", e)
	}
	// ServeContent answers HEAD, Range, If-None-Match (304) and
	// If-Modified-Since (304) itself.
	http.ServeContent(w, r, path.Base(rel), m.lastModified(rel, fi), f)
}

// startMirror serves o.Dir on 127.0.0.1 (an ephemeral port unless listen says
// otherwise).
func startMirror(o *mirrorOptions, listen string, logw io.Writer) (*mirrorServer, error) {
	m := &mirrorServer{opts: o, log: logw, etags: map[string]string{}}
	srv := httptest.NewUnstartedServer(m)
	if listen != "" {
		l, err := net.Listen("tcp", listen)
		if err != nil {
			return nil, configError{fmt.Errorf("listen %s: %w", listen, err)}
		}
		srv.Listener.Close()
		srv.Listener = l
	}
	srv.Start()
	m.srv = srv
	return m, nil
}

func (m *mirrorServer) URL() string { return m.srv.URL }

func (m *mirrorServer) Close() { m.srv.Close() }

// Client returns an HTTP client that can only reach the mirror: any other
// destination is refused (and recorded), so the oracle never touches the
// network even if an updater has a URL that was not redirected.
func (m *mirrorServer) Client() *http.Client {
	addr := m.srv.Listener.Addr().String()
	d := &net.Dialer{Timeout: 10 * time.Second}
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			if a != addr {
				m.mu.Lock()
				m.blocked = append(m.blocked, a)
				m.mu.Unlock()
				return nil, fmt.Errorf("oracle: outbound connection to %s blocked (only the mirror %s is reachable)", a, addr)
			}
			return d.DialContext(ctx, network, a)
		},
		MaxIdleConnsPerHost: 8,
	}
	return &http.Client{Transport: tr}
}

type mirrorReport struct {
	URL      string         `json:"url"`
	Requests []requestLog   `json:"requests"`
	Status   map[string]int `json:"status_counts"`
	NotFound []string       `json:"not_found"`
	Blocked  []string       `json:"blocked_outbound"`
}

func (m *mirrorServer) Report() mirrorReport {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := mirrorReport{
		URL:      m.srv.URL,
		Requests: append([]requestLog{}, m.requests...),
		Status:   map[string]int{},
		NotFound: []string{},
		Blocked:  append([]string{}, m.blocked...),
	}
	for _, q := range m.requests {
		r.Status[fmt.Sprint(q.Status)]++
		if q.Status == http.StatusNotFound {
			r.NotFound = append(r.NotFound, q.Path)
		}
	}
	sort.Strings(r.NotFound)
	return r
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	o, ov := mirrorFlags(fs)
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on")
	quiet := fs.Bool("quiet", false, "do not log requests")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := o.validate(*ov); err != nil {
		return err
	}
	var lw io.Writer = stderr
	if *quiet {
		lw = nil
	}
	m, err := startMirror(o, *listen, lw)
	if err != nil {
		return err
	}
	defer m.Close()
	// The first stdout line is the base URL, for the caller to read.
	fmt.Fprintln(stdout, m.URL())
	if f, ok := stdout.(*os.File); ok {
		f.Sync()
	}
	<-ctx.Done()
	if err := ctx.Err(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
