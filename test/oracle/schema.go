package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Normalized description of a PostgreSQL schema (by default the connection's
// current_schema(), where claircore puts everything). Objects that belong to
// an extension (uuid-ossp's functions) or are implicit (range constructors,
// table row types, index-backing constraints' indexes are kept as indexes)
// are left out. Every list is sorted by name, so two dumps can be diffed
// directly. Only catalog facts are printed; no OIDs, no sizes.

type schemaDump struct {
	Schema           string     `json:"schema"`
	ServerVersionNum int        `json:"server_version_num"`
	Migrations       []int32    `json:"libvuln_migrations"`
	Extensions       []string   `json:"extensions"`
	Types            []typeDesc `json:"types"`
	Sequences        []seqDesc  `json:"sequences"`
	Tables           []relDesc  `json:"tables"`
	Views            []relDesc  `json:"views"`
	MatViews         []relDesc  `json:"materialized_views"`
	Functions        []funcDesc `json:"functions"`
	Triggers         []trigDesc `json:"triggers"`
}

type typeDesc struct {
	Name       string   `json:"name"`
	Kind       string   `json:"kind"` // range, multirange, enum, domain, composite, base
	Subtype    string   `json:"subtype,omitempty"`
	Multirange string   `json:"multirange,omitempty"`
	Labels     []string `json:"labels,omitempty"`
	Comment    *string  `json:"comment,omitempty"`
}

type seqDesc struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	OwnedBy  string `json:"owned_by,omitempty"`
	Identity bool   `json:"identity"`
}

type colDesc struct {
	Position  int     `json:"position"`
	Name      string  `json:"name"`
	Type      string  `json:"type"`
	NotNull   bool    `json:"not_null"`
	Default   *string `json:"default"`
	Identity  string  `json:"identity,omitempty"`  // "always" | "by default"
	Generated string  `json:"generated,omitempty"` // expression of a stored generated column
	Comment   *string `json:"comment,omitempty"`
}

type conDesc struct {
	Name       string `json:"name"`
	Type       string `json:"type"` // primary key, unique, foreign key, check, exclusion, not null
	Definition string `json:"definition"`
}

type idxDesc struct {
	Name       string `json:"name"`
	Unique     bool   `json:"unique"`
	Primary    bool   `json:"primary"`
	Constraint string `json:"constraint,omitempty"` // backing constraint, if any
	Definition string `json:"definition"`
}

type relDesc struct {
	Name        string    `json:"name"`
	Columns     []colDesc `json:"columns"`
	Constraints []conDesc `json:"constraints,omitempty"`
	Indexes     []idxDesc `json:"indexes,omitempty"`
	Definition  string    `json:"definition,omitempty"` // views and materialized views
	Populated   *bool     `json:"populated,omitempty"`  // materialized views
	Comment     *string   `json:"comment,omitempty"`
}

type funcDesc struct {
	Name       string `json:"name"`
	Arguments  string `json:"arguments"`
	Result     string `json:"result"`
	Definition string `json:"definition"`
}

type trigDesc struct {
	Table      string `json:"table"`
	Name       string `json:"name"`
	Definition string `json:"definition"`
}

func cmdSchema(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("schema", stderr)
	db := dbFlag(fs)
	schema := fs.String("schema", "", "schema to describe (default: current_schema())")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := setupLogging("warn", stderr); err != nil {
		return err
	}
	pool, err := connect(ctx, *db)
	if err != nil {
		return err
	}
	defer pool.Close()
	d, err := dumpSchema(ctx, pool, *schema)
	if err != nil {
		return err
	}
	return writeJSON(stdout, d)
}

func collect[T any](ctx context.Context, pool *pgxpool.Pool, q string, scan func(pgx.Rows) (T, error), args ...any) ([]T, error) {
	rows, err := pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Predicate: object with this oid in pg_class/pg_type/pg_proc is a member of
// an extension.
const notExtensionMember = `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = %s AND d.classid = '%s'::regclass AND d.deptype = 'e')`

func dumpSchema(ctx context.Context, pool *pgxpool.Pool, schema string) (*schemaDump, error) {
	d := &schemaDump{}
	if schema == "" {
		if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
			return nil, err
		}
	}
	d.Schema = schema
	if err := pool.QueryRow(ctx, `SELECT current_setting('server_version_num')::int`).Scan(&d.ServerVersionNum); err != nil {
		return nil, err
	}
	var err error
	if d.Migrations, err = migrationVersions(ctx, pool); err != nil {
		return nil, err
	}
	if d.Extensions, err = collect(ctx, pool, `SELECT extname FROM pg_extension ORDER BY extname`,
		func(r pgx.Rows) (s string, err error) { err = r.Scan(&s); return }); err != nil {
		return nil, fmt.Errorf("extensions: %w", err)
	}

	// Types: ranges, multiranges, enums, domains, free-standing composites.
	if d.Types, err = collect(ctx, pool, `
SELECT t.typname,
       CASE t.typtype WHEN 'r' THEN 'range' WHEN 'm' THEN 'multirange' WHEN 'e' THEN 'enum'
                      WHEN 'd' THEN 'domain' WHEN 'c' THEN 'composite' ELSE 'base' END,
       coalesce(CASE t.typtype WHEN 'r' THEN format_type(r.rngsubtype, NULL)
                               WHEN 'd' THEN format_type(t.typbasetype, t.typtypmod) END, ''),
       coalesce((SELECT mt.typname FROM pg_type mt WHERE mt.oid = r.rngmultitypid), ''),
       coalesce((SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '{}'),
       obj_description(t.oid, 'pg_type')
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_range r ON r.rngtypid = t.oid
WHERE n.nspname = $1
  AND t.typtype IN ('r','m','e','d','c','b')
  AND t.typelem = 0 AND t.typname NOT LIKE '\_%'
  AND (t.typtype <> 'c' OR (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c')
  AND `+fmt.Sprintf(notExtensionMember, "t.oid", "pg_type")+`
ORDER BY t.typname`,
		func(r pgx.Rows) (t typeDesc, err error) {
			err = r.Scan(&t.Name, &t.Kind, &t.Subtype, &t.Multirange, &t.Labels, &t.Comment)
			return
		}, schema); err != nil {
		return nil, fmt.Errorf("types: %w", err)
	}

	if d.Sequences, err = collect(ctx, pool, `
SELECT c.relname, format_type(s.seqtypid, NULL),
       coalesce((SELECT oc.relname || '.' || a.attname
                 FROM pg_depend dp JOIN pg_class oc ON oc.oid = dp.refobjid
                 JOIN pg_attribute a ON a.attrelid = dp.refobjid AND a.attnum = dp.refobjsubid
                 WHERE dp.objid = c.oid AND dp.classid = 'pg_class'::regclass
                   AND dp.refclassid = 'pg_class'::regclass AND dp.deptype IN ('a','i')
                 LIMIT 1), ''),
       EXISTS (SELECT 1 FROM pg_depend dp WHERE dp.objid = c.oid AND dp.classid = 'pg_class'::regclass AND dp.deptype = 'i')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_sequence s ON s.seqrelid = c.oid
WHERE n.nspname = $1 AND c.relkind = 'S'
ORDER BY c.relname`,
		func(r pgx.Rows) (s seqDesc, err error) {
			err = r.Scan(&s.Name, &s.Type, &s.OwnedBy, &s.Identity)
			return
		}, schema); err != nil {
		return nil, fmt.Errorf("sequences: %w", err)
	}

	type rel struct {
		oid  uint32
		name string
		kind string
	}
	rels, err := collect(ctx, pool, `
SELECT c.oid, c.relname, c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r','p','v','m')
  AND `+fmt.Sprintf(notExtensionMember, "c.oid", "pg_class")+`
ORDER BY c.relname`,
		func(r pgx.Rows) (x rel, err error) { err = r.Scan(&x.oid, &x.name, &x.kind); return }, schema)
	if err != nil {
		return nil, fmt.Errorf("relations: %w", err)
	}
	d.Tables, d.Views, d.MatViews = []relDesc{}, []relDesc{}, []relDesc{}
	for _, x := range rels {
		rd := relDesc{Name: x.name}
		if err := pool.QueryRow(ctx, `SELECT obj_description($1::oid, 'pg_class')`, x.oid).Scan(&rd.Comment); err != nil {
			return nil, err
		}
		if rd.Columns, err = collect(ctx, pool, `
SELECT a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, ad.adrelid) END,
       CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' ELSE '' END,
       CASE WHEN a.attgenerated <> '' THEN pg_get_expr(ad.adbin, ad.adrelid) ELSE '' END,
       col_description(a.attrelid, a.attnum)
FROM pg_attribute a LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`,
			func(r pgx.Rows) (c colDesc, err error) {
				err = r.Scan(&c.Position, &c.Name, &c.Type, &c.NotNull, &c.Default, &c.Identity, &c.Generated, &c.Comment)
				return
			}, x.oid); err != nil {
			return nil, fmt.Errorf("columns of %s: %w", x.name, err)
		}
		if rd.Constraints, err = collect(ctx, pool, `
SELECT conname,
       CASE contype WHEN 'p' THEN 'primary key' WHEN 'u' THEN 'unique' WHEN 'f' THEN 'foreign key'
                    WHEN 'c' THEN 'check' WHEN 'x' THEN 'exclusion' WHEN 'n' THEN 'not null' ELSE contype::text END,
       pg_get_constraintdef(oid)
FROM pg_constraint WHERE conrelid = $1::oid ORDER BY conname`,
			func(r pgx.Rows) (c conDesc, err error) { err = r.Scan(&c.Name, &c.Type, &c.Definition); return }, x.oid); err != nil {
			return nil, fmt.Errorf("constraints of %s: %w", x.name, err)
		}
		if rd.Indexes, err = collect(ctx, pool, `
SELECT ic.relname, i.indisunique, i.indisprimary,
       coalesce((SELECT conname FROM pg_constraint WHERE conindid = i.indexrelid AND conrelid = i.indrelid LIMIT 1), ''),
       pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
WHERE i.indrelid = $1::oid ORDER BY ic.relname`,
			func(r pgx.Rows) (c idxDesc, err error) {
				err = r.Scan(&c.Name, &c.Unique, &c.Primary, &c.Constraint, &c.Definition)
				// Schema-independent: drop the table's schema qualification.
				c.Definition = strings.Replace(c.Definition, " ON "+quoteIdent(schema)+".", " ON ", 1)
				return
			}, x.oid); err != nil {
			return nil, fmt.Errorf("indexes of %s: %w", x.name, err)
		}
		switch x.kind {
		case "r", "p":
			d.Tables = append(d.Tables, rd)
		case "v", "m":
			if err := pool.QueryRow(ctx, `SELECT pg_get_viewdef($1::oid, true)`, x.oid).Scan(&rd.Definition); err != nil {
				return nil, err
			}
			if x.kind == "v" {
				d.Views = append(d.Views, rd)
			} else {
				var p bool
				if err := pool.QueryRow(ctx, `SELECT relispopulated FROM pg_class WHERE oid = $1::oid`, x.oid).Scan(&p); err != nil {
					return nil, err
				}
				rd.Populated = &p
				d.MatViews = append(d.MatViews, rd)
			}
		}
	}

	// User-defined functions (not extension members, not range/multirange
	// constructors, which depend internally on their type).
	if d.Functions, err = collect(ctx, pool, `
SELECT p.proname, pg_get_function_identity_arguments(p.oid), pg_get_function_result(p.oid),
       CASE WHEN p.prokind IN ('f','p','w') THEN pg_get_functiondef(p.oid) ELSE '' END
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = $1
  AND `+fmt.Sprintf(notExtensionMember, "p.oid", "pg_proc")+`
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.classid = 'pg_proc'::regclass AND d.deptype = 'i')
  AND p.prokind <> 'a'
ORDER BY p.proname, 2`,
		func(r pgx.Rows) (f funcDesc, err error) {
			err = r.Scan(&f.Name, &f.Arguments, &f.Result, &f.Definition)
			return
		}, schema); err != nil {
		return nil, fmt.Errorf("functions: %w", err)
	}

	if d.Triggers, err = collect(ctx, pool, `
SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid)
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND NOT t.tgisinternal
ORDER BY c.relname, t.tgname`,
		func(r pgx.Rows) (t trigDesc, err error) { err = r.Scan(&t.Table, &t.Name, &t.Definition); return }, schema); err != nil {
		return nil, fmt.Errorf("triggers: %w", err)
	}
	return d, nil
}

// quoteIdent quotes an identifier the way PostgreSQL prints it when needed.
func quoteIdent(s string) string {
	plain := s != ""
	for i, r := range s {
		if !(r == '_' || (r >= 'a' && r <= 'z') || (i > 0 && r >= '0' && r <= '9')) {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
