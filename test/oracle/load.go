package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/quay/claircore/datastore/postgres"
	"github.com/quay/claircore/libvuln/driver"
	"github.com/quay/claircore/libvuln/updates"
)

// connect opens a pool the way Clair's matcher does (claircore's Connect
// registers claircore's PostgreSQL type codecs on every connection).
func connect(ctx context.Context, conn string) (*pgxpool.Pool, error) {
	if conn == "" {
		return nil, usagef("--db (or $ORACLE_DB) is required")
	}
	pool, err := postgres.Connect(ctx, conn, "clair-bundle-oracle")
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect: %w", err)
	}
	return pool, nil
}

func migrationVersions(ctx context.Context, pool *pgxpool.Pool) ([]int32, error) {
	var reg *string
	if err := pool.QueryRow(ctx, `SELECT to_regclass('libvuln_migrations')::text`).Scan(&reg); err != nil {
		return nil, err
	}
	if reg == nil {
		return []int32{}, nil
	}
	var v []int32
	err := pool.QueryRow(ctx, `SELECT coalesce(array_agg(version ORDER BY version), '{}') FROM libvuln_migrations`).Scan(&v)
	return v, err
}

// migrate runs claircore's own matcher migrations, exactly as Clair does with
// matcher.migrations: true.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	_, err := postgres.InitPostgresMatcherStore(ctx, pool, true)
	return err
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate", stderr)
	db := dbFlag(fs)
	lvl := logLevelFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := setupLogging(*lvl, stderr); err != nil {
		return err
	}
	pool, err := connect(ctx, *db)
	if err != nil {
		return err
	}
	defer pool.Close()
	before, err := migrationVersions(ctx, pool)
	if err != nil {
		return err
	}
	if err := migrate(ctx, pool); err != nil {
		return fmt.Errorf("claircore migrations: %w", err)
	}
	after, err := migrationVersions(ctx, pool)
	if err != nil {
		return err
	}
	return writeJSON(stdout, map[string]any{
		"claircore":          claircoreVersion(),
		"migrations_before":  before,
		"migrations_after":   after,
		"migrations_applied": len(after) - len(before),
	})
}

// trackedFactory wraps a claircore factory to learn which updaters it
// produced and to supply per-updater configuration blocks (Clair's
// updaters.config.<updater name>) for them. It forwards Configure, so the
// factory is configured exactly as it would be by Clair.
type trackedFactory struct {
	set   string
	inner driver.UpdaterSetFactory
	feed  feed
	base  string
	cfgs  updates.Configs // the same map the Manager reads

	names []string
	err   error
}

func (t *trackedFactory) UpdaterSet(ctx context.Context) (driver.UpdaterSet, error) {
	s, err := t.inner.UpdaterSet(ctx)
	if err != nil {
		t.err = err
		return s, err
	}
	for _, u := range s.Updaters() {
		n := u.Name()
		t.names = append(t.names, n)
		if _, ok := t.cfgs[n]; ok {
			continue
		}
		if c := t.feed.Config(t.base, n); c != nil {
			t.cfgs[n] = jsonConfig(c)
		}
	}
	return s, nil
}

func (t *trackedFactory) Configure(ctx context.Context, f driver.ConfigUnmarshaler, c *http.Client) error {
	if cf, ok := t.inner.(driver.Configurable); ok {
		if err := cf.Configure(ctx, f, c); err != nil {
			t.err = err
			return err
		}
	}
	return nil
}

// jsonConfig is how Clair hands config blocks to updaters: the YAML block is
// re-encoded as JSON and decoded into the updater's config struct.
func jsonConfig(v any) driver.ConfigUnmarshaler {
	b, err := json.Marshal(v)
	return func(dst any) error {
		if err != nil {
			return err
		}
		return json.Unmarshal(b, dst)
	}
}

type uoInfo struct {
	ID          int64     `json:"id"`
	Ref         string    `json:"ref"`
	Kind        string    `json:"kind"`
	Fingerprint string    `json:"fingerprint"`
	Date        time.Time `json:"date"`
	Vulns       int64     `json:"vulns"`
	Enrichments int64     `json:"enrichments"`
}

type statusInfo struct {
	LastAttempt *time.Time `json:"last_attempt"`
	LastSuccess *time.Time `json:"last_success"`
	Succeeded   *bool      `json:"last_run_succeeded"`
	Fingerprint *string    `json:"last_attempt_fingerprint"`
	LastError   *string    `json:"last_error"`
}

type updaterReport struct {
	Set       string      `json:"set"`
	Name      string      `json:"updater"`
	NewUO     bool        `json:"new_update_operation"`
	Latest    *uoInfo     `json:"latest_update_operation"`
	Status    *statusInfo `json:"updater_status"`
	OK        bool        `json:"ok"`
	Problem   string      `json:"problem,omitempty"`
	Unchanged bool        `json:"unchanged,omitempty"`
}

type loadReport struct {
	Claircore  string          `json:"claircore"`
	Migrations []int32         `json:"migrations"`
	Mirror     mirrorReport    `json:"mirror"`
	Configs    map[string]any  `json:"configs"`
	Updaters   []updaterReport `json:"updaters"`
	RunError   string          `json:"run_error,omitempty"`
	Errors     []string        `json:"errors"`
	Started    time.Time       `json:"started"`
	Seconds    float64         `json:"seconds"`
}

func maxUOIDs(ctx context.Context, pool *pgxpool.Pool) (map[string]int64, error) {
	rows, err := pool.Query(ctx, `SELECT updater, max(id) FROM update_operation GROUP BY updater`)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for rows.Next() {
		var n string
		var id int64
		if err := rows.Scan(&n, &id); err != nil {
			return nil, err
		}
		out[n] = id
	}
	return out, rows.Err()
}

func latestUO(ctx context.Context, pool *pgxpool.Pool, name string) (*uoInfo, error) {
	var u uoInfo
	var fp *string
	var kind *string
	err := pool.QueryRow(ctx, `
SELECT id, ref::text, kind, fingerprint, date,
       (SELECT count(*) FROM uo_vuln WHERE uo = update_operation.id),
       (SELECT count(*) FROM uo_enrich WHERE uo = update_operation.id)
FROM update_operation WHERE updater = $1 ORDER BY id DESC LIMIT 1`, name).
		Scan(&u.ID, &u.Ref, &kind, &fp, &u.Date, &u.Vulns, &u.Enrichments)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if fp != nil {
		u.Fingerprint = *fp
	}
	if kind != nil {
		u.Kind = *kind
	}
	return &u, nil
}

func updaterStatus(ctx context.Context, pool *pgxpool.Pool, name string) (*statusInfo, error) {
	var s statusInfo
	err := pool.QueryRow(ctx, `
SELECT last_attempt, last_success, last_run_succeeded, last_attempt_fingerprint, last_error
FROM updater_status WHERE updater_name = $1`, name).
		Scan(&s.LastAttempt, &s.LastSuccess, &s.Succeeded, &s.Fingerprint, &s.LastError)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return &s, err
}

func cmdLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("load", stderr)
	db := dbFlag(fs)
	lvl := logLevelFlag(fs)
	mo, ov := mirrorFlags(fs)
	var sets multiFlag
	fs.Var(&sets, "updater", "updater set to run, as in Clair's updaters.sets (repeatable, or comma-separated): "+strings.Join(feedNames(), ", "))
	var extra kvFlag
	fs.Var(&extra, "config", `NAME=JSON: replace the config block for a factory/updater name; "{{mirror}}" in JSON is replaced by the mirror base URL (repeatable)`)
	doMigrate := fs.Bool("migrate", false, "run claircore's matcher migrations first (Clair's matcher.migrations: true)")
	gc := fs.Int("gc", 0, "run claircore's GC after the update keeping N update operations per updater (0 = no GC, Clair's default is 10)")
	quiet := fs.Bool("quiet-mirror", false, "do not log each mirror request on stderr")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := mo.validate(*ov); err != nil {
		return err
	}
	if len(sets) == 0 {
		return usagef("at least one --updater is required (known: %s)", strings.Join(feedNames(), ", "))
	}
	if *gc == 1 || *gc < 0 {
		return usagef("--gc must be 0 or >= 2")
	}
	if err := setupLogging(*lvl, stderr); err != nil {
		return err
	}
	for _, s := range sets {
		if _, ok := feeds[s]; !ok {
			return configError{fmt.Errorf("unknown updater set %q (known: %s)", s, strings.Join(feedNames(), ", "))}
		}
	}

	pool, err := connect(ctx, *db)
	if err != nil {
		return err
	}
	defer pool.Close()

	if *doMigrate {
		if err := migrate(ctx, pool); err != nil {
			return fmt.Errorf("claircore migrations: %w", err)
		}
	}
	vers, err := migrationVersions(ctx, pool)
	if err != nil {
		return err
	}
	if len(vers) == 0 {
		return configError{errors.New("libvuln_migrations missing or empty: run `oracle migrate` (or pass --migrate) first")}
	}
	// Same as Clair with matcher.migrations: false: no migration, just a store.
	store, err := postgres.InitPostgresMatcherStore(ctx, pool, false)
	if err != nil {
		return err
	}

	var lw io.Writer = stderr
	if *quiet {
		lw = nil
	}
	mirror, err := startMirror(mo, "", lw)
	if err != nil {
		return err
	}
	defer mirror.Close()
	base := mirror.URL()

	rep := loadReport{
		Claircore:  claircoreVersion(),
		Migrations: vers,
		Configs:    map[string]any{},
		Errors:     []string{},
	}

	cfgs := updates.Configs{}
	factories := map[string]driver.UpdaterSetFactory{}
	tracked := map[string]*trackedFactory{}
	for _, s := range sets {
		f := feeds[s]
		inner, err := f.New(ctx)
		if err != nil {
			return fmt.Errorf("%s: constructing factory: %w", s, err)
		}
		tf := &trackedFactory{set: s, inner: inner, feed: f, base: base, cfgs: cfgs}
		factories[s] = tf
		tracked[s] = tf
		if c := f.Config(base, s); c != nil {
			cfgs[s] = jsonConfig(c)
			rep.Configs[s] = c
		}
	}
	for _, kv := range extra {
		k, v, _ := strings.Cut(kv, "=")
		v = strings.ReplaceAll(v, "{{mirror}}", base)
		var parsed any
		if err := json.Unmarshal([]byte(v), &parsed); err != nil {
			return usagef("--config %s: %v", k, err)
		}
		cfgs[k] = jsonConfig(parsed)
		rep.Configs[k] = parsed
	}

	before, err := maxUOIDs(ctx, pool)
	if err != nil {
		return err
	}

	opts := []updates.ManagerOption{
		updates.WithFactories(factories),
		updates.WithConfigs(cfgs),
		updates.WithBatchSize(1), // deterministic: one updater at a time
	}
	if *gc != 0 {
		opts = append(opts, updates.WithGC(*gc))
	}
	rep.Started = time.Now().UTC()
	runStart := time.Now().Add(-time.Second)
	mgr, err := updates.NewManager(ctx, store, updates.NewLocalLockSource(), mirror.Client(), opts...)
	if err != nil {
		return fmt.Errorf("claircore update manager: %w", err)
	}
	if err := mgr.Run(ctx); err != nil {
		rep.RunError = strings.TrimSpace(err.Error())
	}
	rep.Seconds = time.Since(rep.Started).Seconds()
	rep.Mirror = mirror.Report()

	for _, s := range sets {
		tf := tracked[s]
		if tf.err != nil {
			rep.Errors = append(rep.Errors, fmt.Sprintf("%s: factory: %v", s, tf.err))
		}
		if len(tf.names) == 0 && tf.err == nil {
			rep.Errors = append(rep.Errors, fmt.Sprintf("%s: factory produced no updaters", s))
		}
		names := append([]string{}, tf.names...)
		sort.Strings(names)
		for _, n := range names {
			ur := updaterReport{Set: s, Name: n}
			if ur.Latest, err = latestUO(ctx, pool, n); err != nil {
				return err
			}
			if ur.Status, err = updaterStatus(ctx, pool, n); err != nil {
				return err
			}
			ur.NewUO = ur.Latest != nil && ur.Latest.ID > before[n]
			attempted := ur.Status != nil && ur.Status.LastAttempt != nil && !ur.Status.LastAttempt.Before(runStart)
			succeeded := attempted && ur.Status.Succeeded != nil && *ur.Status.Succeeded
			switch {
			case ur.NewUO && succeeded:
				ur.OK = true
			case !ur.NewUO && succeeded:
				ur.OK, ur.Unchanged = true, true
			case !attempted:
				ur.Problem = "not run (factory/configuration failure or lock held; see log)"
			case ur.Status.LastError != nil:
				ur.Problem = *ur.Status.LastError
			default:
				ur.Problem = "failed"
			}
			if !ur.OK {
				rep.Errors = append(rep.Errors, fmt.Sprintf("%s: %s", n, ur.Problem))
			}
			rep.Updaters = append(rep.Updaters, ur)
		}
	}
	if rep.RunError != "" && len(rep.Errors) == 0 {
		rep.Errors = append(rep.Errors, rep.RunError)
	}
	if len(rep.Mirror.Blocked) > 0 {
		rep.Errors = append(rep.Errors, fmt.Sprintf("blocked outbound connections: %v", rep.Mirror.Blocked))
	}
	if err := writeJSON(stdout, rep); err != nil {
		return err
	}
	if len(rep.Errors) > 0 {
		return fmt.Errorf("%d error(s): %s", len(rep.Errors), strings.Join(rep.Errors, "; "))
	}
	return nil
}
