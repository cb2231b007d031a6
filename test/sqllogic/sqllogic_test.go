// Package sqllogic runs the SQL logic tests in testdata/*.sql against an
// in-process Cairn node (or, with -pg, any PostgreSQL-compatible server).
// The file format is described in README.md.
//
//	go test ./test/sqllogic                          # the corpus
//	go test ./test/sqllogic -run 'TestSQLLogic/types' # one file
//	go test ./test/sqllogic -rewrite                  # regenerate expected output
//	go test ./test/sqllogic -known                    # also known_failures.sql
//	go test ./test/sqllogic -pg postgres://u@h:5432/db # check the corpus against PostgreSQL
package sqllogic

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"go.uber.org/goleak"

	"github.com/cairndb/cairn/internal/server"
)

var (
	rewrite = flag.Bool("rewrite", false, "rewrite the expected output of queries with what the server returns")
	known   = flag.Bool("known", false, "also run testdata/known_failures.sql (cases where Cairn differs from PostgreSQL)")
	pgURL   = flag.String("pg", "", "run against this PostgreSQL URL instead of an in-process node")
)

// knownFailures is the file of cases that fail today; it is skipped unless -known.
const knownFailures = "known_failures.sql"

// stmtTimeout bounds one statement, so that a hang is a failure.
const stmtTimeout = 30 * time.Second

// TestMain fails the package if goroutines outlive its tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestSQLLogic(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/*.sql files")
	}
	baseURL := *pgURL
	if baseURL == "" {
		s := startNode(t)
		baseURL = "postgres://root@" + s.SQLAddr() + "/defaultdb?sslmode=disable"
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".sql")
		t.Run(name, func(t *testing.T) {
			if filepath.Base(path) == knownFailures && !*known {
				t.Skip("known failures; run with -known")
			}
			runFile(t, baseURL, path)
		})
	}
}

// startNode starts one insecure in-memory node, stopped when the test ends.
func startNode(t *testing.T) *server.Server {
	t.Helper()
	s, err := server.Start(server.Config{
		InMemory: true, Insecure: true,
		RPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", SQLAddr: "127.0.0.1:0",
	})
	if err != nil {
		t.Fatalf("starting a node: %v", err)
	}
	t.Cleanup(s.Stop)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := s.Ready(ctx)
		cancel()
		if err == nil {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("node not ready after 30s: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// runner runs one file in its own database.
type runner struct {
	t     *testing.T
	f     *testFile
	cfg   *pgx.ConnConfig // of the file's database
	conns map[string]*pgx.Conn
	cur   *pgx.Conn
	// results holds the rendered output of each query record, for -rewrite.
	results map[*record][]string
}

func runFile(t *testing.T, baseURL, path string) {
	f, err := parseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	admin := connect(t, mustParse(t, baseURL))
	defer admin.Close(ctx)

	// A fresh database per file; the file need not clean up after itself.
	db := "sqllogic_" + regexp.MustCompile(`[^a-z0-9_]`).ReplaceAllString(strings.ToLower(strings.TrimSuffix(filepath.Base(path), ".sql")), "_")
	if _, err := exec(admin, "DROP DATABASE IF EXISTS "+db); err != nil {
		t.Fatalf("DROP DATABASE %s: %v", db, err)
	}
	if _, err := exec(admin, "CREATE DATABASE "+db); err != nil {
		t.Fatalf("CREATE DATABASE %s: %v", db, err)
	}
	cfg := mustParse(t, baseURL)
	cfg.Database = db
	r := &runner{t: t, f: f, cfg: cfg, conns: map[string]*pgx.Conn{}, results: map[*record][]string{}}
	r.cur = r.conn(t, "default")
	defer func() {
		for _, c := range r.conns {
			c.Close(ctx)
		}
		if _, err := exec(admin, "DROP DATABASE "+db); err != nil {
			t.Errorf("DROP DATABASE %s: %v", db, err)
		}
	}()
	for _, rec := range f.records {
		r.run(rec)
	}
	if *rewrite {
		if err := r.rewriteFile(); err != nil {
			t.Fatal(err)
		}
	}
}

// connect opens a connection; every statement goes by the simple query
// protocol, so results come back in PostgreSQL's text format.
func connect(t *testing.T, cfg *pgx.ConnConfig) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stmtTimeout)
	defer cancel()
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connecting to database %s: %v", cfg.Database, err)
	}
	return c
}

func mustParse(t *testing.T, url string) *pgx.ConnConfig {
	t.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	return cfg
}

func (r *runner) conn(t *testing.T, name string) *pgx.Conn {
	if c, ok := r.conns[name]; ok {
		return c
	}
	c := connect(t, r.cfg)
	r.conns[name] = c
	return c
}

// exec runs sql by the simple query protocol and returns its last result
// (with its columns even when it has no rows).
func exec(c *pgx.Conn, sql string) (*pgconn.Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), stmtTimeout)
	defer cancel()
	mrr := c.PgConn().Exec(ctx, sql)
	last := &pgconn.Result{}
	var firstErr error
	for mrr.NextResult() {
		rr := mrr.ResultReader()
		res := &pgconn.Result{}
		for rr.NextRow() {
			row := make([][]byte, len(rr.Values()))
			for i, v := range rr.Values() {
				if v != nil {
					row[i] = append([]byte{}, v...)
				}
			}
			res.Rows = append(res.Rows, row)
		}
		res.FieldDescriptions = append([]pgconn.FieldDescription(nil), rr.FieldDescriptions()...)
		res.CommandTag, res.Err = rr.Close()
		if res.Err != nil && firstErr == nil {
			firstErr = res.Err
		}
		last = res
	}
	if err := mrr.Close(); err != nil {
		return nil, err
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return last, nil
}

func (r *runner) failf(rec *record, format string, args ...any) {
	r.t.Helper()
	r.t.Errorf("%s:%d:\n%s\n%s", r.f.path, rec.line, indent(rec.sql), fmt.Sprintf(format, args...))
}

func (r *runner) run(rec *record) {
	r.t.Helper()
	engine := "cairn"
	if *pgURL != "" {
		engine = "postgres"
	}
	if (rec.onlyif != "" && rec.onlyif != engine) || rec.skipif == engine {
		return
	}
	switch rec.kind {
	case "connection":
		r.cur = r.conn(r.t, rec.conn)
		return
	}
	res, err := exec(r.cur, rec.sql)
	if rec.expectErr {
		var pgErr *pgconn.PgError
		switch {
		case err == nil:
			r.failf(rec, "expected error %s, got success", rec.errCode)
		case !errors.As(err, &pgErr):
			r.failf(rec, "expected error %s, got %v", rec.errCode, err)
		case pgErr.Code != rec.errCode:
			r.failf(rec, "expected error %s, got %s: %s", rec.errCode, pgErr.Code, pgErr.Message)
		case rec.errRe != nil && !rec.errRe.MatchString(pgErr.Message):
			r.failf(rec, "expected error %s matching %q, got %s: %s", rec.errCode, rec.errRe, pgErr.Code, pgErr.Message)
		}
		return
	}
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			r.failf(rec, "unexpected error %s: %s", pgErr.Code, pgErr.Message)
		} else {
			r.failf(rec, "unexpected error: %v", err)
		}
		return
	}
	if rec.kind == "statement" {
		if rec.count >= 0 && res.CommandTag.RowsAffected() != rec.count {
			r.failf(rec, "expected %d rows affected, got %d (%s)", rec.count, res.CommandTag.RowsAffected(), res.CommandTag)
		}
		return
	}
	r.checkQuery(rec, res)
}

func (r *runner) checkQuery(rec *record, res *pgconn.Result) {
	r.t.Helper()
	var names []string
	var typeErrs []string
	for i, fd := range res.FieldDescriptions {
		names = append(names, fd.Name)
		if i < len(rec.types) {
			if want, got := rec.types[i], typeLetter(fd.DataTypeOID); want != got {
				typeErrs = append(typeErrs, fmt.Sprintf("column %d (%s): type %c expected, got %c (OID %d)", i+1, fd.Name, want, got, fd.DataTypeOID))
			}
		}
	}
	rows := make([][]string, len(res.Rows))
	for i, row := range res.Rows {
		for _, v := range row {
			rows[i] = append(rows[i], renderValue(v))
		}
	}
	if rec.rowsort {
		sort.Slice(rows, func(i, j int) bool { return strings.Join(rows[i], " ") < strings.Join(rows[j], " ") })
	}
	var out [][]string
	if rec.colnames {
		out = append(out, names)
	}
	out = append(out, rows...)
	r.results[rec] = formatRows(out)
	if len(res.FieldDescriptions) != len(rec.types) {
		r.failf(rec, "expected %d columns (%s), got %d", len(rec.types), rec.types, len(res.FieldDescriptions))
		return
	}
	if len(typeErrs) > 0 {
		r.failf(rec, "%s", strings.Join(typeErrs, "\n"))
	}
	if *rewrite {
		return
	}
	got := normalize(r.results[rec], rec.rowsort, rec.colnames)
	want := normalize(rec.expected, rec.rowsort, rec.colnames)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		r.failf(rec, "expected:\n%s\ngot:\n%s", indent(strings.Join(rec.expected, "\n")), indent(strings.Join(r.results[rec], "\n")))
	}
}

// typeLetter classifies a result column: I integers, R floats and numerics,
// B booleans, T everything else.
func typeLetter(oid uint32) byte {
	switch oid {
	case 20, 21, 23: // int8, int2, int4
		return 'I'
	case 700, 701, 1700: // float4, float8, numeric
		return 'R'
	case 16:
		return 'B'
	}
	return 'T'
}

// renderValue prints a value as PostgreSQL's text format does, with NULL
// as NULL, the empty string as ·, and a whitespace-only string with its
// spaces as ␣; newlines and tabs inside a value are escaped as \n and \t.
func renderValue(v []byte) string {
	if v == nil {
		return "NULL"
	}
	s := string(v)
	switch {
	case s == "":
		return "·"
	case strings.TrimSpace(s) == "":
		return strings.ReplaceAll(s, " ", "␣")
	}
	return strings.NewReplacer("\n", `\n`, "\t", `\t`).Replace(s)
}

// formatRows aligns columns as -rewrite writes them.
func formatRows(rows [][]string) []string {
	var sb strings.Builder
	tw := tabwriter.NewWriter(&sb, 0, 1, 2, ' ', 0)
	for _, row := range rows {
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	_ = tw.Flush()
	var out []string
	for _, l := range strings.Split(strings.TrimSuffix(sb.String(), "\n"), "\n") {
		if len(rows) > 0 {
			out = append(out, strings.TrimRight(l, " "))
		}
	}
	return out
}

// normalize collapses the whitespace of each line (so that alignment does
// not matter) and sorts the rows under rowsort, column names staying first.
func normalize(lines []string, rowsort, colnames bool) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.Join(strings.Fields(l), " ")
	}
	if rowsort {
		body := out
		if colnames && len(body) > 0 {
			body = body[1:]
		}
		sort.Strings(body)
	}
	return out
}

func indent(s string) string {
	if s == "" {
		return "    (nothing)"
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// rewriteFile writes the file back with each query's expected output
// replaced by what the server returned.
func (r *runner) rewriteFile() error {
	lines := append([]string(nil), r.f.lines...)
	recs := r.f.records
	for i := len(recs) - 1; i >= 0; i-- {
		rec := recs[i]
		got, ok := r.results[rec]
		if !ok || rec.kind != "query" {
			continue // errors keep the old expectation
		}
		start := rec.sepLine + 1
		if rec.sepLine < 0 {
			start = rec.expEnd
			got = append([]string{"----"}, got...)
		}
		tail := append([]string(nil), lines[rec.expEnd:]...)
		lines = append(append(lines[:start], got...), tail...)
	}
	out := strings.Join(lines, "\n") + "\n"
	return os.WriteFile(r.f.path, []byte(out), 0o644)
}
