package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// setupLogging routes claircore's logs to stderr at the given level.
//
// claircore >= v1.5.50 logs through log/slog; older versions log through
// github.com/quay/zlog (zerolog), which is configured by setupZlog in
// logging_zlog.go (built only with the "oracle_zlog" tag, see build.sh).
func setupLogging(level string, w io.Writer) error {
	var l slog.Level
	switch strings.ToLower(level) {
	case "debug":
		l = slog.LevelDebug
	case "info", "":
		l = slog.LevelInfo
	case "warn", "warning":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	default:
		return usagef("unknown log level %q", level)
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})))
	setupZlog(l, w)
	return nil
}

func logf(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "oracle: "+format+"\n", args...)
}
