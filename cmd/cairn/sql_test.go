package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cairndb/cairn/internal/security"
	"github.com/cairndb/cairn/internal/server"
)

// The expected tables are psql's output (default aligned format, border 1),
// written out by hand: header lines keep psql's trailing padding.
func TestSQLFormatAligned(t *testing.T) {
	const int4, text, float8, numeric = 23, 25, 701, 1700
	col := func(name string, oid uint32) sqlColumn { return sqlColumn{name: name, right: numericTypeOID(oid)} }
	row := func(vals ...any) [][]byte {
		r := make([][]byte, len(vals))
		for i, v := range vals {
			if v != nil {
				r[i] = []byte(v.(string))
			}
		}
		return r
	}
	for _, tc := range []struct {
		name string
		cols []sqlColumn
		rows [][][]byte
		want string
	}{
		{
			name: "two columns",
			cols: []sqlColumn{col("id", int4), col("name", text)},
			rows: [][][]byte{row("1", "alice"), row("10", "bob")},
			want: "" +
				" id | name  \n" +
				"----+-------\n" +
				"  1 | alice\n" +
				" 10 | bob\n" +
				"(2 rows)\n\n",
		},
		{
			name: "select 1",
			cols: []sqlColumn{col("?column?", int4)},
			rows: [][][]byte{row("1")},
			want: "" +
				" ?column? \n" +
				"----------\n" +
				"        1\n" +
				"(1 row)\n\n",
		},
		{
			name: "centered headers, numbers right",
			cols: []sqlColumn{col("a", int4), col("greeting", text), col("f", float8), col("n", numeric)},
			rows: [][][]byte{row("1", "hello world", "3.5", "-12.50"), row("22", "hi", "1e+100", "0")},
			want: "" +
				" a  |  greeting   |   f    |   n    \n" +
				"----+-------------+--------+--------\n" +
				"  1 | hello world |    3.5 | -12.50\n" +
				" 22 | hi          | 1e+100 |      0\n" +
				"(2 rows)\n\n",
		},
		{
			name: "no rows",
			cols: []sqlColumn{col("a", text), col("bb", int4)},
			want: "" +
				" a | bb \n" +
				"---+----\n" +
				"(0 rows)\n\n",
		},
		{
			name: "no columns",
			rows: [][][]byte{row()},
			want: "--\n(1 row)\n\n",
		},
		{
			name: "nulls and newlines",
			cols: []sqlColumn{col("a", text), col("b", text)},
			rows: [][][]byte{row("x\ny", nil), row("long", "z"), row(nil, "p\nq\nr")},
			want: "" +
				"  a   | b \n" +
				"------+---\n" +
				" x   +| \n" +
				" y    | \n" +
				" long | z\n" +
				"      | p+\n" +
				"      | q+\n" +
				"      | r\n" +
				"(3 rows)\n\n",
		},
		{
			name: "newline in a right-aligned column",
			cols: []sqlColumn{col("n", int4), col("t", text)},
			rows: [][][]byte{row("1", "a\nb")},
			want: "" +
				" n | t \n" +
				"---+---\n" +
				" 1 | a+\n" +
				"   | b\n" +
				"(1 row)\n\n",
		},
		{
			name: "multi-line header",
			cols: []sqlColumn{col("x\nyy", text), col("c", text)},
			rows: [][][]byte{row("v", "w")},
			want: "" +
				" x +| c \n" +
				" yy |   \n" +
				"----+---\n" +
				" v  | w\n" +
				"(1 row)\n\n",
		},
		{
			name: "tabs, control characters, wide characters",
			cols: []sqlColumn{col("s", text), col("k", text)},
			rows: [][][]byte{row("a\tb", "\r\x01"), row("日本", "é")},
			want: "" +
				"     s     |   k    \n" +
				"-----------+--------\n" +
				" a       b | \\r\\x01\n" +
				" 日本      | é\n" +
				"(2 rows)\n\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := formatAligned(tc.cols, tc.rows); got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s\n(got %q)", got, tc.want, got)
			}
		})
	}
}

func TestSQLFormatMisc(t *testing.T) {
	for d, want := range map[time.Duration]string{
		1234 * time.Microsecond:               "Time: 1.234 ms",
		1500 * time.Millisecond:               "Time: 1500.000 ms (00:01.500)",
		(3*3600 + 62) * time.Second:           "Time: 10862000.000 ms (03:01:02.000)",
		(25*3600)*time.Second + time.Second/2: "Time: 90000500.000 ms (1 01:00:00.500)",
	} {
		if got := formatTiming(d); got != want {
			t.Errorf("formatTiming(%v) = %q, want %q", d, got, want)
		}
	}
	if got, want := errorPositionLines("SELECT 1,\n  foo bar", 17), "LINE 2:   foo bar\n              ^\n"; got != want {
		t.Errorf("errorPositionLines = %q, want %q", got, want)
	}
	for n, want := range map[int]string{0: "(0 rows)", 1: "(1 row)", 2: "(2 rows)"} {
		if got := rowsFooter(n); got != want {
			t.Errorf("rowsFooter(%d) = %q", n, got)
		}
	}
}

func TestSQLSplitter(t *testing.T) {
	for _, tc := range []struct {
		name   string
		lines  []string
		want   []string
		prompt byte // promptChar after the last line; 0: nothing pending
	}{
		{"one", []string{"SELECT 1;"}, []string{"SELECT 1"}, 0},
		{"several on a line", []string{"BEGIN; SHOW x ;COMMIT;"}, []string{"BEGIN", "SHOW x", "COMMIT"}, 0},
		{"multi-line", []string{"SELECT", "  1", ";"}, []string{"SELECT\n  1"}, 0},
		{"unfinished", []string{"SELECT 1"}, nil, '-'},
		{"empty statements", []string{";;", "  ;", "-- only a comment", "/* c */;"}, nil, 0},
		{"quotes", []string{"SELECT 'a;b', \"c;\"\"d\", 'it''s;';"}, []string{"SELECT 'a;b', \"c;\"\"d\", 'it''s;'"}, 0},
		{"open quote", []string{"SELECT 'a;", "b';"}, []string{"SELECT 'a;\nb'"}, 0},
		{"open quote pending", []string{"SELECT 'a;"}, nil, '\''},
		{"open identifier pending", []string{`SELECT "a;`}, nil, '"'},
		{"escape string", []string{`SELECT E'a\';b';`}, []string{`SELECT E'a\';b'`}, 0},
		{"not an escape string", []string{`SELECT 'a\'; SELECT 2;`}, []string{`SELECT 'a\'`, "SELECT 2"}, 0},
		{"dollar quote", []string{"SELECT $$a;", "b$$, $tag$c;$$;$tag$;"}, []string{"SELECT $$a;\nb$$, $tag$c;$$;$tag$"}, 0},
		{"dollar quote pending", []string{"SELECT $x$ ;"}, nil, '$'},
		{"parameter is no quote", []string{"SELECT $1; SELECT a$b$c;"}, []string{"SELECT $1", "SELECT a$b$c"}, 0},
		{"line comment", []string{"SELECT 1 -- a; b", ";"}, []string{"SELECT 1 -- a; b"}, 0},
		{"block comment", []string{"SELECT /* a; /* nested; */ b; */ 1;"}, []string{"SELECT /* a; /* nested; */ b; */ 1"}, 0},
		{"block comment pending", []string{"SELECT /* a;"}, nil, '*'},
		{"parentheses", []string{"SELECT (1;"}, nil, '('},
		{"parentheses closed", []string{"SELECT (1;", ");"}, []string{"SELECT (1;\n)"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s sqlSplitter
			var got []string
			for _, l := range tc.lines {
				got = append(got, s.feed(l)...)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("statements = %q, want %q", got, tc.want)
			}
			var prompt byte
			if s.pending() {
				prompt = s.promptChar()
			}
			if prompt != tc.prompt {
				t.Errorf("prompt char = %q, want %q", prompt, tc.prompt)
			}
		})
	}
}

func TestSQLHistoryBounded(t *testing.T) {
	h := &sqlHistory{path: filepath.Join(t.TempDir(), "hist")}
	for i := range maxSQLHistory + 10 {
		h.Add(strings.Repeat("x", i%7) + string(rune('a'+i%26)))
		h.Add("") // ignored
	}
	h.Add("last")
	h.Add("last") // a repeat is not recorded
	if h.Len() != maxSQLHistory || h.At(0) != "last" {
		t.Fatalf("len %d, newest %q", h.Len(), h.At(0))
	}
	h.save()
	data, err := os.ReadFile(h.path)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), "\n"); n != maxSQLHistory {
		t.Fatalf("saved %d lines", n)
	}
}

// runSQLCmd runs `cairn sql ARGS...` in-process with stdin.
func runSQLCmd(stdin string, args ...string) (stdout, stderr string, err error) {
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(append([]string{"sql"}, args...))
	err = root.Execute()
	return out.String(), errOut.String(), err
}

func TestSQLShell(t *testing.T) {
	s := startBankTestNode(t)
	addr := s.SQLAddr()
	base := []string{"--insecure", "--sql-addr", addr}
	const versionTable = " server_version \n----------------\n 16.0\n(1 row)\n\n"

	type result struct {
		stdout, stderr string
		exitCode       int // 0: no error
	}
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		want  result
	}{
		{
			name: "execute",
			args: append(base, "-e", "SHOW server_version"),
			want: result{stdout: versionTable},
		},
		{
			name: "transaction",
			args: append(base, "-e", "BEGIN; SHOW transaction_isolation; COMMIT;"),
			want: result{stdout: "BEGIN\n transaction_isolation \n-----------------------\n serializable\n(1 row)\n\nCOMMIT\n"},
		},
		{
			name: "repeated execute and notice",
			args: append(base, "-e", "COMMIT", "--execute", "SET application_name = 'x'; SHOW application_name"),
			want: result{
				stdout: "COMMIT\nSET\n application_name \n------------------\n x\n(1 row)\n\n",
				stderr: "WARNING:  there is no transaction in progress\n",
			},
		},
		{
			name: "syntax error",
			args: append(base, "-e", "SELEC 1"),
			want: result{stderr: "ERROR:  syntax error at or near \"SELEC\" (SQLSTATE 42601)\nLINE 1: SELEC 1\n        ^\n", exitCode: 1},
		},
		{
			name:  "stdin stops at the first error",
			stdin: "SHOW server_version;\n\\echo hi\nBEGIN;\nSELEC 1; SHOW server_version;\nROLLBACK;\n",
			args:  base,
			want: result{
				stdout:   versionTable + "hi\nBEGIN\n",
				stderr:   "ERROR:  syntax error at or near \"SELEC\" (SQLSTATE 42601)\nLINE 1: SELEC 1\n        ^\n",
				exitCode: 1,
			},
		},
		{
			name:  "stdin, last statement without semicolon",
			stdin: "-- a comment\nSHOW\n  server_version",
			args:  base,
			want:  result{stdout: versionTable},
		},
		{
			name:  "quit",
			stdin: "\\q\nSELEC 1;\n",
			args:  base,
		},
		{
			name:  "unsupported meta-command",
			stdin: "\\dt\nSHOW server_version;\n",
			args:  base,
			want:  result{stderr: "\\dt: not supported yet\n", exitCode: 1},
		},
		{
			name: "url",
			args: []string{"--url", "postgres://root@" + addr + "/defaultdb?sslmode=disable", "-e", "SHOW application_name"},
			want: result{stdout: " application_name \n------------------\n cairn sql\n(1 row)\n\n"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, err := runSQLCmd(tc.stdin, tc.args...)
			code := 0
			if err != nil {
				var ok bool
				if code, ok = errIsExitCode(err); !ok {
					t.Fatalf("error: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
				}
			}
			if got := (result{stdout, stderr, code}); got != tc.want {
				t.Errorf("got stdout:\n%s\nstderr:\n%s\nexit code %d\n(%q, %q)\nwant stdout:\n%s\nstderr:\n%s\nexit code %d",
					got.stdout, got.stderr, got.exitCode, got.stdout, got.stderr, tc.want.stdout, tc.want.stderr, tc.want.exitCode)
			}
		})
	}
}

func TestSQLShellFileAndMeta(t *testing.T) {
	s := startBankTestNode(t)
	file := filepath.Join(t.TempDir(), "script.sql")
	script := "CREATE DATABASE otherdb;\n\\timing\nSHOW server_version;\n\\timing off\n\\c otherdb\n\\conninfo\nBEGIN; COMMIT;\n"
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := runSQLCmd("", "--insecure", "--sql-addr", s.SQLAddr(), "-f", file)
	if err != nil || stderr != "" {
		t.Fatalf("err %v, stderr:\n%s", err, stderr)
	}
	for _, want := range []string{
		"Timing is on.\n server_version \n",
		"(1 row)\n\nTime: ",
		" ms\nTiming is off.\n",
		"You are now connected to database \"otherdb\" as user \"root\".\n",
		"You are connected to database \"otherdb\" as user \"root\" on host \"127.0.0.1\"",
		"BEGIN\nCOMMIT\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}

	if _, _, err := runSQLCmd("", "--sql-addr", s.SQLAddr(), "-e", "SHOW server_version"); err == nil ||
		!strings.Contains(err.Error(), "--insecure") {
		t.Errorf("without --insecure or --certs-dir: %v", err)
	}
	if _, _, err := runSQLCmd("", "--insecure", "--sql-addr", s.SQLAddr(), "-f", file+".missing"); err == nil {
		t.Error("missing -f file: no error")
	}
}

// TestSQLShellTLS connects with --certs-dir (verify-full against ca.crt) to
// a node started with certificates, with and without a client certificate.
func TestSQLShellTLS(t *testing.T) {
	dir := t.TempDir()
	if err := security.CreateCA(dir, "", false); err != nil {
		t.Fatal(err)
	}
	if err := security.CreateNodeCert(dir, "", []string{"127.0.0.1"}, false); err != nil {
		t.Fatal(err)
	}
	if err := security.CreateClientCert(dir, "", "root", false); err != nil {
		t.Fatal(err)
	}
	s, err := server.Start(server.Config{
		InMemory: true, CertsDir: dir,
		RPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", SQLAddr: "127.0.0.1:0",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for s.Ready(ctx) != nil && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	for _, user := range []string{"root", "nocert"} {
		stdout, stderr, err := runSQLCmd("", "--certs-dir", dir, "--user", user, "--sql-addr", s.SQLAddr(), "-e", `\conninfo`)
		if err != nil || !strings.Contains(stdout, "(TLS).") {
			t.Errorf("user %s: %v\nstdout: %s\nstderr: %s", user, err, stdout, stderr)
		}
	}
	// The server certificate is verified against the host dialed: it
	// names 127.0.0.1, not localhost.
	stdout, stderr, err := runSQLCmd("", "--certs-dir", dir, "--sql-addr", strings.Replace(s.SQLAddr(), "127.0.0.1", "localhost", 1),
		"-e", "SHOW server_version")
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("connected to a host the certificate does not name: %v\n%s%s", err, stdout, stderr)
	}
	// Plaintext is refused.
	if _, _, err := runSQLCmd("", "--insecure", "--sql-addr", s.SQLAddr(), "-e", "SHOW server_version"); err == nil {
		t.Error("plaintext connection accepted")
	}
}

// TestSQLShellPrompt checks psql's prompts: database, '=' or the
// continuation mark, the transaction status, '>'.
func TestSQLShellPrompt(t *testing.T) {
	s := startBankTestNode(t)
	f := sqlFlags{addr: s.SQLAddr(), user: "root", database: "defaultdb", insecure: true}
	cfg, err := f.connConfig()
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	sh := &sqlShell{out: &out, errOut: &errOut, interactive: true}
	ctx := context.Background()
	if err := sh.connect(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	defer sh.close()
	_ = sh.handleLine(ctx, "CREATE DATABASE otherdb;")
	for _, step := range []struct{ line, prompt string }{
		{"", "defaultdb=> "},
		{"SHOW", "defaultdb-> "},
		{"server_version;", "defaultdb=> "},
		{"BEGIN;", "defaultdb=*> "},
		{"SELECT 'a", "defaultdb'*> "},
		{"'::int;", "defaultdb=!> "}, // 22P02: the transaction failed
		{"ROLLBACK; SELECT (", "defaultdb(> "},
		{`\r`, "defaultdb=> "},
		{`\c otherdb`, "otherdb=> "},
	} {
		_ = sh.handleLine(ctx, step.line)
		if got := sh.prompt(); got != step.prompt {
			t.Errorf("after %q: prompt %q, want %q", step.line, got, step.prompt)
		}
	}
	if !strings.Contains(errOut.String(), "ERROR:  ") {
		t.Errorf("no error printed: %q", errOut.String())
	}
}
