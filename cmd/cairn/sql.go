package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/cairndb/cairn/internal/security"
)

// exitCodeError ends the process with code and prints nothing more: what
// went wrong has been printed already (a failed statement in a script).
type exitCodeError struct{ code int }

func (e exitCodeError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// errStatementFailed is returned, after printing the error, by a statement
// or meta-command that failed; scripts stop on it with exit status 1.
var errStatementFailed = exitCodeError{code: 1}

type sqlFlags struct {
	url      string
	addr     string
	user     string
	database string
	insecure bool
	certsDir string
	execute  []string
	files    []string
}

func newSQLCmd() *cobra.Command {
	var f sqlFlags
	cmd := &cobra.Command{
		Use:   "sql",
		Short: "open a SQL shell (or run statements from -e, -f or standard input)",
		Long: `Open a SQL shell on a node's PostgreSQL port (--sql-addr of cairn start).

Statements end with a semicolon and are sent one at a time. With -e or -f
the statements given are run and the shell exits; when standard input is not
a terminal, the statements read from it are. Both stop at the first error,
which exits with status 1. On a terminal the shell is interactive: line
editing, history (~/.cairn_sql_history), multi-line statements and
meta-commands (\? lists them).

The connection is --url if given (a postgres:// URL as for psql: user, host,
port, database and sslmode, sslrootcert, sslcert, sslkey parameters; the
other connection flags are then ignored), else --sql-addr, --user and
--database, in plaintext with --insecure or over TLS verified against
--certs-dir/ca.crt, presenting client.<user>.crt if that file exists.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.connConfig()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			in := cmd.InOrStdin()
			inFile, _ := in.(*os.File)
			interactive := len(f.execute) == 0 && len(f.files) == 0 &&
				inFile != nil && term.IsTerminal(int(inFile.Fd()))
			sh := &sqlShell{out: cmd.OutOrStdout(), errOut: cmd.ErrOrStderr(), interactive: interactive}
			if err := sh.connect(ctx, cfg); err != nil {
				return err
			}
			defer sh.close()
			if interactive {
				return sh.runInteractive(ctx, inFile)
			}
			for _, e := range f.execute {
				if err := sh.runScript(ctx, strings.NewReader(e)); err != nil || sh.quit {
					return err
				}
			}
			for _, name := range f.files {
				r := in
				if name != "-" {
					file, err := os.Open(name)
					if err != nil {
						return err
					}
					defer file.Close()
					r = file
				}
				if err := sh.runScript(ctx, r); err != nil || sh.quit {
					return err
				}
			}
			if len(f.execute) > 0 || len(f.files) > 0 {
				return nil
			}
			return sh.runScript(ctx, in)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.url, "url", "", "connection URL, postgres://USER@HOST:PORT/DATABASE?sslmode=...; overrides the other connection flags")
	fl.StringVar(&f.addr, "sql-addr", "127.0.0.1:5433", "SQL address of any node (HOST:PORT)")
	fl.StringVar(&f.user, "user", "root", "SQL user (and client certificate user with --certs-dir)")
	fl.StringVarP(&f.database, "database", "d", "defaultdb", "database to connect to")
	fl.BoolVar(&f.insecure, "insecure", false, "connect in plaintext to a node started with --insecure")
	fl.StringVar(&f.certsDir, "certs-dir", "", "directory with ca.crt (and client.<user>.crt/key, if any) for TLS")
	fl.StringArrayVarP(&f.execute, "execute", "e", nil, "run these statements and exit (repeatable; runs before -f)")
	fl.StringArrayVarP(&f.files, "file", "f", nil, "run the statements in FILE (- for standard input) and exit (repeatable)")
	return cmd
}

// connConfig turns the flags into a pgconn configuration.
func (f *sqlFlags) connConfig() (*pgconn.Config, error) {
	var cfg *pgconn.Config
	if f.url != "" {
		var err error
		if cfg, err = pgconn.ParseConfig(f.url); err != nil {
			return nil, fmt.Errorf("--url: %w", err)
		}
	} else {
		switch {
		case f.insecure && f.certsDir != "":
			return nil, fmt.Errorf("--insecure and --certs-dir are mutually exclusive")
		case !f.insecure && f.certsDir == "":
			return nil, fmt.Errorf("either --certs-dir (TLS) or --insecure (plaintext) is required")
		}
		host, _, err := net.SplitHostPort(f.addr)
		if err != nil {
			return nil, fmt.Errorf("--sql-addr %q: want HOST:PORT", f.addr)
		}
		u := url.URL{Scheme: "postgres", User: url.User(f.user), Host: f.addr, Path: "/" + f.database, RawQuery: "sslmode=disable"}
		if cfg, err = pgconn.ParseConfig(u.String()); err != nil {
			return nil, err
		}
		if f.certsDir != "" {
			tlsCfg, err := security.ClientTLSConfig(f.certsDir, f.user)
			if err != nil {
				return nil, err
			}
			tlsCfg.ServerName = host // verify-full: the certificate must name the host dialed
			cfg.TLSConfig, cfg.Fallbacks = tlsCfg, nil
		}
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "cairn sql"
	}
	return cfg, nil
}

// sqlShell runs statements on one connection and prints their results the
// way psql does.
type sqlShell struct {
	out, errOut io.Writer
	interactive bool
	cfg         *pgconn.Config
	conn        *pgconn.PgConn
	split       sqlSplitter
	timing      bool
	quit        bool // \q was read
}

// connect opens a connection with cfg and, on success, makes it the
// shell's, closing the previous one.
func (sh *sqlShell) connect(ctx context.Context, cfg *pgconn.Config) error {
	cfg = cfg.Copy()
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		_, _ = io.WriteString(sh.errOut, formatNotice(n))
	}
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	sh.close()
	sh.cfg, sh.conn = cfg, conn
	return nil
}

func (sh *sqlShell) close() {
	if sh.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = sh.conn.Close(ctx)
		sh.conn = nil
	}
}

// runScript runs the statements and meta-commands read from r, stopping at
// the first error (which it has printed) or \q.
func (sh *sqlShell) runScript(ctx context.Context, r io.Reader) error {
	sh.split.reset()
	br := bufio.NewReader(r)
	for {
		line, readErr := br.ReadString('\n')
		if readErr != nil && readErr != io.EOF {
			return readErr
		}
		if readErr == nil || line != "" {
			if err := sh.handleLine(ctx, strings.TrimSuffix(line, "\n")); err != nil || sh.quit {
				return err
			}
		}
		if readErr == io.EOF {
			break
		}
	}
	// A last statement without a semicolon runs too, as in psql.
	if stmt, ok := sh.split.flush(); ok {
		return sh.exec(ctx, stmt)
	}
	return nil
}

// handleLine runs a meta-command or adds a line of SQL, running the
// statements it completes. In a script it stops at the first failure;
// interactively the remaining statements of the line still run.
func (sh *sqlShell) handleLine(ctx context.Context, line string) error {
	if trimmed := strings.TrimSpace(line); strings.HasPrefix(trimmed, `\`) && sh.split.state == lexNormal {
		return sh.meta(ctx, trimmed)
	}
	var firstErr error
	for _, stmt := range sh.split.feed(line) {
		if err := sh.exec(ctx, stmt); err != nil {
			if !sh.interactive {
				return err
			}
			firstErr = cmp.Or(firstErr, err)
		}
	}
	return firstErr
}

// exec sends one statement with the simple protocol and prints each of its
// results: rows as a table, otherwise the command tag; errors go to stderr.
func (sh *sqlShell) exec(ctx context.Context, stmt string) error {
	if sh.conn == nil || sh.conn.IsClosed() {
		if !sh.interactive || !sh.reconnect(ctx) {
			fmt.Fprintln(sh.errOut, "You are currently not connected to a database.")
			return errStatementFailed
		}
	}
	if sh.interactive {
		stop := sh.cancelOnInterrupt()
		defer stop()
	}
	start := time.Now()
	mrr := sh.conn.Exec(ctx, stmt)
	var resErr error
	for mrr.NextResult() {
		rr := mrr.ResultReader()
		fields := rr.FieldDescriptions()
		var rows [][][]byte
		for rr.NextRow() {
			vals := rr.Values()
			row := make([][]byte, len(vals))
			for i, v := range vals {
				if v != nil {
					row[i] = append([]byte{}, v...)
				}
			}
			rows = append(rows, row)
		}
		tag, err := rr.Close()
		if err != nil {
			resErr = err
			break
		}
		sh.printResult(fields, rows, tag)
	}
	err := cmp.Or(mrr.Close(), resErr)
	elapsed := time.Since(start)
	if err != nil {
		_, _ = io.WriteString(sh.errOut, formatError(err, stmt))
	}
	if sh.timing {
		fmt.Fprintln(sh.out, formatTiming(elapsed))
	}
	if err == nil {
		return nil
	}
	if sh.conn.IsClosed() {
		fmt.Fprintln(sh.errOut, "The connection to the server was lost.")
		if sh.interactive {
			sh.reconnect(ctx)
		}
	}
	return errStatementFailed
}

// printResult prints one statement's result: a table if it returned rows
// (followed by the tag for INSERT/UPDATE/DELETE/MERGE ... RETURNING, as in
// psql), else the command tag.
func (sh *sqlShell) printResult(fields []pgconn.FieldDescription, rows [][][]byte, tag pgconn.CommandTag) {
	if fields == nil {
		if s := tag.String(); s != "" {
			fmt.Fprintln(sh.out, s)
		}
		return
	}
	cols := make([]sqlColumn, len(fields))
	for i, fd := range fields {
		cols[i] = sqlColumn{name: fd.Name, right: numericTypeOID(fd.DataTypeOID)}
	}
	_, _ = io.WriteString(sh.out, formatAligned(cols, rows))
	if tag.Insert() || tag.Update() || tag.Delete() || strings.HasPrefix(tag.String(), "MERGE") {
		fmt.Fprintln(sh.out, tag.String())
	}
}

// cancelOnInterrupt sends a cancel request for the running statement when
// SIGINT (Ctrl-C) arrives, instead of killing the shell.
func (sh *sqlShell) cancelOnInterrupt() (stop func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	conn := sh.conn
	go func() {
		defer wg.Done()
		for {
			select {
			case <-sigs:
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				if err := conn.CancelRequest(ctx); err != nil {
					fmt.Fprintln(sh.errOut, "Could not send cancel request:", err)
				} else {
					fmt.Fprintln(sh.errOut, "Cancel request sent")
				}
				cancel()
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
		wg.Wait()
	}
}

// reconnect tries once to open a new connection with the current
// configuration, as psql does when the connection is lost.
func (sh *sqlShell) reconnect(ctx context.Context) bool {
	if err := sh.connect(ctx, sh.cfg); err != nil {
		fmt.Fprintln(sh.errOut, "Attempting reset: Failed.")
		return false
	}
	fmt.Fprintln(sh.errOut, "Attempting reset: Succeeded.")
	return true
}

const sqlHelp = `General
  \q                     quit
  \?                     show this help
  \timing [on|off]       toggle (or set) printing how long each statement took
  \echo [TEXT]           print TEXT
  \r                     reset (clear) the query buffer

Connection
  \c[onnect] [DBNAME]    connect to database DBNAME (default: the current one)
  \conninfo              show the current connection

Informational (not supported yet: the system catalogs are not built)
  \d[t] [NAME]  \l  \dn  \du

Statements end with a semicolon and may span lines; Ctrl-C clears the input
or cancels a running statement; Ctrl-D quits.
`

// meta runs a backslash command.
func (sh *sqlShell) meta(ctx context.Context, line string) error {
	fields := strings.Fields(line)
	name, args := fields[0], fields[1:]
	switch name {
	case `\q`, `\quit`:
		sh.quit = true
	case `\?`, `\h`, `\help`:
		_, _ = io.WriteString(sh.out, sqlHelp)
	case `\timing`:
		switch {
		case len(args) == 0:
			sh.timing = !sh.timing
		case strings.EqualFold(args[0], "on"):
			sh.timing = true
		case strings.EqualFold(args[0], "off"):
			sh.timing = false
		default:
			fmt.Fprintf(sh.errOut, "\\timing: unrecognized value %q: want on or off\n", args[0])
			return errStatementFailed
		}
		if sh.timing {
			fmt.Fprintln(sh.out, "Timing is on.")
		} else {
			fmt.Fprintln(sh.out, "Timing is off.")
		}
	case `\echo`:
		fmt.Fprintln(sh.out, strings.Join(args, " "))
	case `\r`, `\reset`:
		sh.split.reset()
		fmt.Fprintln(sh.out, "Query buffer reset (cleared).")
	case `\c`, `\connect`:
		cfg := sh.cfg.Copy()
		if len(args) > 0 && args[0] != "-" {
			cfg.Database = args[0]
		}
		if err := sh.connect(ctx, cfg); err != nil {
			fmt.Fprintf(sh.errOut, "connection to database %q failed: %v\n", cfg.Database, err)
			if sh.conn != nil && !sh.conn.IsClosed() {
				fmt.Fprintln(sh.errOut, "Previous connection kept")
			}
			return errStatementFailed
		}
		fmt.Fprintf(sh.out, "You are now connected to database %q as user %q.\n", cfg.Database, cfg.User)
	case `\conninfo`:
		if sh.conn == nil || sh.conn.IsClosed() {
			fmt.Fprintln(sh.out, "You are currently not connected to a database.")
			return nil
		}
		tls := ""
		if sh.cfg.TLSConfig != nil {
			tls = " (TLS)"
		}
		fmt.Fprintf(sh.out, "You are connected to database %q as user %q on host %q at port \"%d\"%s.\n",
			sh.cfg.Database, sh.cfg.User, sh.cfg.Host, sh.cfg.Port, tls)
	default:
		if strings.HasPrefix(name, `\d`) || strings.HasPrefix(name, `\l`) {
			fmt.Fprintf(sh.errOut, "%s: not supported yet\n", name)
		} else {
			fmt.Fprintf(sh.errOut, "invalid command %s\nTry \\? for help.\n", name)
		}
		return errStatementFailed
	}
	return nil
}

// prompt is psql's default PROMPT1/PROMPT2, "%/%R%x%# ": the database, then
// '=' (or, on a continuation line, '-' or the kind of unfinished quote,
// comment or parenthesis), then '*' in a transaction or '!' in a failed
// one, then '>' (always: psql's '#' for a superuser is not used).
func (sh *sqlShell) prompt() string {
	if sh.conn == nil || sh.conn.IsClosed() {
		return "!> "
	}
	r := byte('=')
	if sh.split.pending() {
		r = sh.split.promptChar()
	}
	x := ""
	switch sh.conn.TxStatus() {
	case 'T':
		x = "*"
	case 'E':
		x = "!"
	}
	return sh.cfg.Database + string(r) + x + "> "
}

// interruptReader notes whether a Ctrl-C byte went by: term.Terminal
// returns io.EOF for both Ctrl-C and Ctrl-D. Input before a Ctrl-C is
// returned by itself first, so that the terminal echoes it before giving up.
type interruptReader struct {
	r           io.Reader
	pending     []byte // read from r, not yet returned
	interrupted bool
}

func (ir *interruptReader) Read(p []byte) (int, error) {
	if len(ir.pending) == 0 {
		buf := make([]byte, len(p))
		n, err := ir.r.Read(buf)
		if n == 0 {
			return 0, err
		}
		ir.pending = buf[:n]
	}
	chunk := ir.pending
	if i := bytes.IndexByte(chunk, 3); i == 0 {
		ir.interrupted = true
		chunk = chunk[:1]
	} else if i > 0 {
		chunk = chunk[:i]
	}
	n := copy(p, chunk)
	ir.pending = ir.pending[n:]
	return n, nil
}

// runInteractive reads lines from the terminal in until \q or Ctrl-D. The
// terminal is in raw mode only while a line is edited, so that output and
// Ctrl-C (cancel the statement) work as usual while a statement runs.
func (sh *sqlShell) runInteractive(ctx context.Context, in *os.File) error {
	fd := int(in.Fd())
	var echo io.Writer = sh.errOut
	if f, ok := sh.out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		echo = f
	}
	hist := loadSQLHistory()
	defer hist.save()
	fmt.Fprintf(sh.out, "cairn sql (server version %s)\nType \\? for help, \\q to quit.\n\n", sh.conn.ParameterStatus("server_version"))

	ir := &interruptReader{r: in}
	newTerminal := func() *term.Terminal {
		t := term.NewTerminal(struct {
			io.Reader
			io.Writer
		}{ir, echo}, "")
		t.History = hist
		return t
	}
	t := newTerminal()
	for {
		t.SetPrompt(sh.prompt())
		if w, h, err := term.GetSize(fd); err == nil && w > 0 {
			_ = t.SetSize(w, h)
		}
		old, err := term.MakeRaw(fd)
		if err != nil {
			return err
		}
		ir.interrupted = false
		line, err := t.ReadLine()
		_ = term.Restore(fd, old)
		switch {
		case err == io.EOF && ir.interrupted:
			// Ctrl-C: forget the input so far and start over.
			fmt.Fprintln(echo, "^C")
			sh.split.reset()
			t = newTerminal()
			continue
		case err == io.EOF:
			fmt.Fprintln(echo, `\q`)
			return nil
		case err != nil && err != term.ErrPasteIndicator:
			return err
		}
		_ = sh.handleLine(ctx, line) // printed already; the shell goes on
		if sh.quit {
			return nil
		}
	}
}

// sqlHistory is the interactive shell's line history, kept within
// maxSQLHistory lines and saved to ~/.cairn_sql_history on exit.
type sqlHistory struct {
	path    string
	entries []string // oldest first
}

const maxSQLHistory = 1000

func loadSQLHistory() *sqlHistory {
	h := &sqlHistory{}
	home, err := os.UserHomeDir()
	if err != nil {
		return h
	}
	h.path = filepath.Join(home, ".cairn_sql_history")
	if data, err := os.ReadFile(h.path); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			h.Add(l)
		}
	}
	return h
}

// save writes the history; failures are ignored (a read-only home).
func (h *sqlHistory) save() {
	if h.path == "" || len(h.entries) == 0 {
		return
	}
	_ = os.WriteFile(h.path, []byte(strings.Join(h.entries, "\n")+"\n"), 0o600)
}

// Add implements term.History: blank lines and repeats of the last line
// are not recorded.
func (h *sqlHistory) Add(entry string) {
	if strings.TrimSpace(entry) == "" || (len(h.entries) > 0 && h.entries[len(h.entries)-1] == entry) {
		return
	}
	h.entries = append(h.entries, entry)
	if n := len(h.entries) - maxSQLHistory; n > 0 {
		h.entries = append(h.entries[:0], h.entries[n:]...)
	}
}

func (h *sqlHistory) Len() int { return len(h.entries) }

func (h *sqlHistory) At(i int) string { return h.entries[len(h.entries)-1-i] }

var _ term.History = (*sqlHistory)(nil)

// errIsExitCode reports the exit status err asks for, if it is an
// exitCodeError.
func errIsExitCode(err error) (int, bool) {
	var ec exitCodeError
	if errors.As(err, &ec) {
		return ec.code, true
	}
	return 0, false
}
