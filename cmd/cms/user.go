package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"golang.org/x/term"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

const userUsage = `usage:
  cms user add --email E --role ROLE [--name N] [--password-stdin] [--create] [--data-dir DIR]
  cms user passwd --email E [--password-stdin] [--data-dir DIR]
  cms user list [--data-dir DIR]

Without --password-stdin the password is asked for at the terminal.
Configuration (MONGODB_URI, CMS_DATA_DIR, ...) comes from the environment.
Every command first prints which database it uses. A data directory (or a
MongoDB database) that holds no users is refused, so a mistyped
CMS_DATA_DIR cannot quietly become a new, empty database; pass --create to
user add to start a new one on purpose.
`

// userCmd manages users against the configured database. On the embedded
// engine it works while the server runs, through the server's socket.
func userCmd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, userUsage)
		return errors.New("user: missing subcommand")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("user "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "the user's email address")
	name := fs.String("name", "", "display name (add; default: the part of the email before @)")
	role := fs.String("role", "", "contributor, author, editor or admin (add)")
	pwStdin := fs.Bool("password-stdin", false, "read the password from standard input")
	dataDir := fs.String("data-dir", "", "data directory (CMS_DATA_DIR)")
	create := fs.Bool("create", false, "add: start a new database when there is none yet")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("user %s: unexpected argument %q", sub, fs.Arg(0))
	}
	switch sub {
	case "add", "passwd", "list":
	default:
		fmt.Fprint(stderr, userUsage)
		return fmt.Errorf("user: unknown subcommand %q", sub)
	}
	if *create && sub != "add" {
		return fmt.Errorf("user %s: --create is only for user add", sub)
	}
	use := existingData
	if *create {
		use = createData
	}

	tl, err := openTool(ctx, getenv, *dataDir, use, stderr)
	if err != nil {
		return fmt.Errorf("user %s: %w", sub, err)
	}
	defer tl.db.Close(context.Background())
	if !*create {
		if err := requireUsers(ctx, tl); err != nil {
			return fmt.Errorf("user %s: %w", sub, err)
		}
	}
	// The CLI issues no tokens, so it signs with a throwaway key rather
	// than reading, or creating, the server's key file.
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	keys, err := auth.NewKeySet(key)
	if err != nil {
		return err
	}
	store := auth.NewStore(tl.db.Database)
	if err := store.EnsureIndexes(ctx); err != nil {
		return err
	}
	svc := auth.New(store, auth.Options{Keys: keys, Logger: tl.logger})

	switch sub {
	case "add":
		if *email == "" || *role == "" {
			return errors.New("user add: --email and --role are required")
		}
		r, err := auth.ParseRole(*role)
		if err != nil {
			return fmt.Errorf("user add: %w", err)
		}
		pw, err := readPassword(stdin, stderr, *pwStdin, true)
		if err != nil {
			return err
		}
		n := *name
		if n == "" {
			n, _, _ = strings.Cut(strings.TrimSpace(*email), "@")
		}
		u, err := svc.CreateUser(ctx, auth.NewUser{Email: *email, Name: n, Role: r, Password: pw})
		if err != nil {
			return describe("user add", err)
		}
		fmt.Fprintf(stdout, "created %s %s (%s) in %s\n", u.Role, u.Email, u.ID, tl.where)
		return nil
	case "passwd":
		if *email == "" {
			return errors.New("user passwd: --email is required")
		}
		u, err := store.FindUserByEmail(ctx, *email)
		if err != nil {
			return describe("user passwd", err)
		}
		pw, err := readPassword(stdin, stderr, *pwStdin, true)
		if err != nil {
			return err
		}
		if _, err := svc.UpdateUser(ctx, u.ID, auth.UserUpdate{Password: web.Some(pw)}); err != nil {
			return describe("user passwd", err)
		}
		fmt.Fprintf(stdout, "password changed for %s in %s; their sessions have ended\n", u.Email, tl.where)
		return nil
	case "list":
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tROLE\tDISABLED")
		after := ""
		for {
			users, err := store.FindUsers(ctx, after, 100)
			if err != nil {
				return err
			}
			for _, u := range users {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\n", u.ID, u.Email, u.Name, u.Role, u.Disabled)
			}
			if len(users) < 100 {
				break
			}
			after = users[len(users)-1].ID
		}
		return tw.Flush()
	}
	return nil
}

// usersCollection is the collection auth.NewStore keeps users in.
const usersCollection = "users"

// requireUsers refuses a database without a users collection: the server
// creates it at its first start, so its absence means the configuration
// names some other database (MONGODB_URI, MONGODB_DATABASE, CMS_DATA_DIR).
// It must run before anything creates collections.
func requireUsers(ctx context.Context, tl *tool) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	names, err := tl.db.Database.ListCollectionNames(ctx, bson.D{{Key: "name", Value: usersCollection}})
	if err != nil {
		return fmt.Errorf("list collections: %w", err)
	}
	if len(names) == 0 {
		return fmt.Errorf("%s holds no users: check MONGODB_URI, MONGODB_DATABASE and CMS_DATA_DIR (or --data-dir), "+
			"or pass --create to user add to start a new database", tl.where)
	}
	return nil
}

// describe turns a problem error into one readable line.
func describe(op string, err error) error {
	var pe *problem.Error
	if errors.As(err, &pe) {
		var parts []string
		for _, f := range pe.Fields {
			parts = append(parts, f.Field+" "+f.Message)
		}
		if len(parts) > 0 {
			return fmt.Errorf("%s: %s", op, strings.Join(parts, "; "))
		}
		if pe.Kind == problem.NotFound {
			return fmt.Errorf("%s: no such user", op)
		}
		if pe.Detail != "" {
			return fmt.Errorf("%s: %s", op, pe.Detail)
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// readPassword takes the first line of stdin with --password-stdin, or asks
// twice at the terminal without echo.
func readPassword(stdin io.Reader, stderr io.Writer, fromStdin, confirm bool) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read password: %w", err)
		}
		pw := strings.TrimRight(line, "\r\n")
		if pw == "" {
			return "", errors.New("no password on standard input")
		}
		return pw, nil
	}
	if !isTerminal(stdin) {
		return "", errors.New("standard input is not a terminal: use --password-stdin")
	}
	f := stdin.(*os.File)
	fmt.Fprint(stderr, "Password: ")
	pw, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	if confirm {
		fmt.Fprint(stderr, "Repeat password: ")
		again, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(again) != string(pw) {
			return "", errors.New("the passwords differ")
		}
	}
	return string(pw), nil
}
