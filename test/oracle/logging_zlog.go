//go:build oracle_zlog

package main

// claircore <= v1.5.49 (e.g. v1.5.48, pinned by Clair v4.9.0) logs through
// github.com/quay/zlog, a facade over zerolog's global logger, which by default
// writes JSON at debug level to stderr. This file is only compiled for such
// versions (build.sh passes -tags oracle_zlog).

import (
	"io"
	"log/slog"
	"time"

	"github.com/rs/zerolog"
	global "github.com/rs/zerolog/log"
)

func setupZlog(l slog.Level, w io.Writer) {
	var zl zerolog.Level
	switch {
	case l <= slog.LevelDebug:
		zl = zerolog.DebugLevel
	case l <= slog.LevelInfo:
		zl = zerolog.InfoLevel
	case l <= slog.LevelWarn:
		zl = zerolog.WarnLevel
	default:
		zl = zerolog.ErrorLevel
	}
	zerolog.SetGlobalLevel(zl)
	global.Logger = zerolog.New(zerolog.ConsoleWriter{Out: w, NoColor: true, TimeFormat: time.RFC3339Nano}).With().Timestamp().Logger()
}
