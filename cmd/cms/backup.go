package main

import (
	"context"
	"errors"
	"io"
)

// exportCmd writes a backup archive (written by the backup work).
func exportCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("export: not built yet")
}

// importArchiveCmd restores a backup archive.
func importArchiveCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("import archive: not built yet")
}
