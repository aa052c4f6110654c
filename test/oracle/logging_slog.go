//go:build !oracle_zlog

package main

import (
	"io"
	"log/slog"
)

// setupZlog is a no-op for claircore versions that log only through log/slog.
func setupZlog(slog.Level, io.Writer) {}
