package main

import (
	"context"
	"fmt"
	"io"
)

const importUsage = `usage: cms import wxr FILE [flags]      import a WordPress export (cms import wxr -h)
       cms import archive FILE [flags]  restore an archive written by cms export
`

// importCmd dispatches the two imports: a WordPress export, and a backup
// archive of this CMS.
func importCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, importUsage)
		return fmt.Errorf("import: say what to import: wxr or archive")
	}
	switch args[0] {
	case "wxr":
		return importWXRCmd(ctx, args[1:], getenv, stdout, stderr)
	case "archive":
		return importArchiveCmd(ctx, args[1:], getenv, stdout, stderr)
	}
	fmt.Fprint(stderr, importUsage)
	return fmt.Errorf("import: unknown kind %q (wxr or archive)", args[0])
}
