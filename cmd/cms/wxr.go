package main

import (
	"context"
	"errors"
	"io"
)

// importWXRCmd imports a WordPress export.
func importWXRCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("import wxr: not built yet")
}
