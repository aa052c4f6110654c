// Command oracle is a conformance oracle for clair-bundle.
//
// It drives claircore (used only as a Go module dependency) to produce the
// reference state of Clair's matcher database: claircore's own migrations,
// claircore's own updaters fetching from a local HTTP mirror of the upstream
// feeds, and claircore's own store writing the rows. TypeScript tests compare
// what clair-bundle writes against what this program writes.
//
// Subcommands:
//
//	oracle version
//	oracle migrate --db CONNSTRING
//	oracle load    --db CONNSTRING --mirror DIR --updater rhel-vex [--updater ...]
//	oracle schema  --db CONNSTRING
//	oracle serve   --mirror DIR [--listen 127.0.0.1:0]
//
// Machine-readable results go to stdout (JSON); logs go to stderr.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
)

const claircoreModule = "github.com/quay/claircore"

// exit codes
const (
	exitOK     = 0
	exitFail   = 1 // the operation ran and failed (updater error, SQL error, ...)
	exitUsage  = 2 // bad command line
	exitConfig = 3 // bad environment: unknown updater, unreadable mirror, ...
)

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "version":
		err = writeJSON(stdout, versionInfo())
	case "migrate":
		err = cmdMigrate(ctx, rest, stdout, stderr)
	case "load":
		err = cmdLoad(ctx, rest, stdout, stderr)
	case "schema":
		err = cmdSchema(ctx, rest, stdout, stderr)
	case "serve":
		err = cmdServe(ctx, rest, stdout, stderr)
	default:
		err = usagef("unknown command %q", cmd)
	}
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintf(stderr, "oracle %s: %v\n", cmd, err)
	var ue usageError
	var ce configError
	switch {
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &ce):
		return exitConfig
	}
	return exitFail
}

type configError struct{ error }

func printUsage(w io.Writer) {
	fmt.Fprintf(w, `usage: oracle <command> [flags]

Conformance oracle: runs claircore %s's own migrations, updaters and store.

commands:
  version                       print the claircore version this binary was built with
  migrate --db CONN             create/upgrade the matcher schema with claircore's migrations
  load    --db CONN --mirror DIR --updater NAME [--updater NAME...]
                                serve DIR on 127.0.0.1, point claircore's updater(s) at it,
                                run them once through claircore's update manager
  schema  --db CONN             print a normalized JSON description of the matcher schema
  serve   --mirror DIR          only serve DIR the way "load" does (for other test drivers)

Known updater sets: %s
Run "oracle <command> -h" for the flags of a command.
`, claircoreVersion(), strings.Join(feedNames(), ", "))
}

// claircoreVersion reports the version of github.com/quay/claircore linked in.
func claircoreVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, d := range bi.Deps {
		if d.Path == claircoreModule {
			if d.Replace != nil {
				return d.Version + " => " + d.Replace.Path + " " + d.Replace.Version
			}
			return d.Version
		}
	}
	return "unknown"
}

func versionInfo() map[string]any {
	out := map[string]any{
		"claircore": claircoreVersion(),
		"updaters":  feedNames(),
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		out["go"] = bi.GoVersion
		for _, d := range bi.Deps {
			if d.Path == "github.com/jackc/pgx/v5" {
				out["pgx"] = d.Version
			}
		}
	}
	return out
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// multiFlag is a repeatable string flag; values may also be comma-separated.
type multiFlag []string

func (m *multiFlag) String() string { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*m = append(*m, s)
		}
	}
	return nil
}

// kvFlag is a repeatable KEY=VALUE flag.
type kvFlag []string

func (m *kvFlag) String() string { return strings.Join(*m, " ") }
func (m *kvFlag) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("want KEY=VALUE, got %q", v)
	}
	*m = append(*m, v)
	return nil
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("oracle "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() != 0 {
		return usagef("unexpected arguments: %q", fs.Args())
	}
	return nil
}

// dbFlag registers --db, defaulting to $ORACLE_DB.
func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", os.Getenv("ORACLE_DB"), "PostgreSQL connection string (URL or libpq keywords); default $ORACLE_DB")
}

func logLevelFlag(fs *flag.FlagSet) *string {
	return fs.String("log-level", "info", "log level for claircore's logs on stderr: debug, info, warn, error")
}
