package pgwire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func TestConnectAndPing(t *testing.T) {
	ts := startServer(t, Config{})
	connsBefore := counterValue(t, metricConnsTotal)
	conn := ts.connect(t, "application_name=pingtest")
	ctx := testCtx(t)
	if err := conn.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	pc := conn.PgConn()
	for name, want := range map[string]string{
		"server_version":              DefaultServerVersion,
		"server_encoding":             "UTF8",
		"client_encoding":             "UTF8",
		"DateStyle":                   "ISO, MDY",
		"integer_datetimes":           "on",
		"standard_conforming_strings": "on",
		"TimeZone":                    "UTC",
		"application_name":            "pingtest",
		"is_superuser":                "on", // the session's override
		"session_authorization":       "tester",
	} {
		if got := pc.ParameterStatus(name); got != want {
			t.Errorf("ParameterStatus %s = %q, want %q", name, got, want)
		}
	}
	if pc.PID() == 0 || len(pc.SecretKey()) != 4 {
		t.Errorf("BackendKeyData: pid %d, secret %x", pc.PID(), pc.SecretKey())
	}
	p := ts.f.lastParams()
	if p.User != "tester" || p.Database != "defaultdb" || p.Params["application_name"] != "pingtest" || p.TLS != nil {
		t.Errorf("startup params %+v", p)
	}
	if got := counterValue(t, metricConnsTotal) - connsBefore; got != 1 {
		t.Errorf("connections_total grew by %v, want 1", got)
	}
}

func TestSimpleQueryMultipleStatements(t *testing.T) {
	ts := startServer(t, Config{})
	pc := ts.pgConnect(t, "")
	ctx := testCtx(t)

	results, err := pc.Exec(ctx, "SELECT 1; ROWS 3;\n BEGIN; SELECT 7").ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range results {
		s := r.CommandTag.String()
		for _, row := range r.Rows {
			s += " " + string(row[0])
		}
		got = append(got, s)
	}
	if want := []string{"SELECT 1 1", "SELECT 3 1 2 3", "BEGIN", "SELECT 1 7"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("results %q, want %q", got, want)
	}
	if len(results[1].FieldDescriptions) != 1 || results[1].FieldDescriptions[0].Name != "i" || results[1].FieldDescriptions[0].DataTypeOID != oidInt8 {
		t.Errorf("fields %+v", results[1].FieldDescriptions)
	}
	if pc.TxStatus() != 'T' {
		t.Errorf("TxStatus %c, want T", pc.TxStatus())
	}

	// An error stops the statements after it; the transaction has failed.
	results, err = pc.Exec(ctx, "SELECT 2; ERROR 22012 division by zero; SELECT 3").ReadAll()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "22012" || pe.Message != "division by zero" || pe.Position != 11 || pe.Hint != "fake hint" || pe.Severity != "ERROR" {
		t.Fatalf("error %#v", err)
	}
	if len(results) != 1 || results[0].CommandTag.String() != "SELECT 1" {
		t.Errorf("results before the error: %+v", results)
	}
	for _, s := range ts.f.executed() {
		if s == "SELECT 3" {
			t.Errorf("a statement after the error ran")
		}
	}
	if pc.TxStatus() != 'E' {
		t.Errorf("TxStatus %c, want E", pc.TxStatus())
	}
	if _, err := pc.Exec(ctx, "ROLLBACK").ReadAll(); err != nil || pc.TxStatus() != 'I' {
		t.Fatalf("rollback: %v, status %c", err, pc.TxStatus())
	}

	// Empty queries: blank (pgwire) and comments only (the session).
	for _, q := range []string{"", "  \n", "-- only a comment", ";;"} {
		results, err := pc.Exec(ctx, q).ReadAll()
		if err != nil || len(results) != 1 || results[0].CommandTag.String() != "" {
			t.Errorf("Exec(%q) = %+v, %v; want one empty result", q, results, err)
		}
	}

	// An error without SQLSTATE is an internal error.
	_, err = pc.Exec(ctx, "PLAIN").ReadAll()
	if pgErrorCode(err) != CodeInternalError || !strings.Contains(err.Error(), "plain failure") {
		t.Errorf("PLAIN: %v", err)
	}
	// A FATAL error ends the connection.
	_, err = pc.Exec(ctx, "FATAL 57P01 going away").ReadAll()
	if pgErrorCode(err) != "57P01" {
		t.Errorf("FATAL: %v", err)
	}
	select {
	case <-pc.CleanupDone():
	case <-ctx.Done():
		t.Fatal("connection not closed after FATAL")
	}
}

func TestExtendedQueryBinary(t *testing.T) {
	ts := startServer(t, Config{})
	conn := ts.connect(t, "")
	ctx := testCtx(t)

	// pgx describes the statement, then binds an int8 in binary and asks
	// for binary results.
	var n int64
	if err := conn.QueryRow(ctx, "SELECT $1", int64(-42)).Scan(&n); err != nil || n != -42 {
		t.Fatalf("SELECT $1: %d, %v", n, err)
	}
	ts.f.mu.Lock()
	bind := ts.f.mu.lastBind
	ts.f.mu.Unlock()
	if fmt.Sprint(bind.ParamFormats) != "[1]" || fmt.Sprint(bind.ResultFormats) != "[1]" || len(bind.Params[0]) != 8 {
		t.Errorf("bind %+v: want binary parameter and result", bind)
	}

	rows, err := conn.Query(ctx, "ROWS 5")
	if err != nil {
		t.Fatal(err)
	}
	ints, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || fmt.Sprint(ints) != "[1 2 3 4 5]" {
		t.Fatalf("ROWS 5: %v, %v", ints, err)
	}

	// Text parameters and results, and a NULL, with pgconn.
	pc := conn.PgConn()
	res := pc.ExecParams(ctx, "SELECT $1", [][]byte{[]byte("hello")}, []uint32{oidText}, []int16{0}, []int16{0}).Read()
	if res.Err != nil || len(res.Rows) != 1 || string(res.Rows[0][0]) != "hello" || res.FieldDescriptions[0].DataTypeOID != oidText {
		t.Fatalf("text param: %+v", res)
	}
	res = pc.ExecParams(ctx, "SELECT $1", [][]byte{nil}, []uint32{oidText}, nil, nil).Read()
	if res.Err != nil || len(res.Rows) != 1 || string(res.Rows[0][0]) != "" {
		t.Fatalf("NULL param: %+v", res)
	}
	// A bad format code is refused (22023) and the connection recovers.
	res = pc.ExecParams(ctx, "SELECT 1", nil, nil, nil, []int16{7}).Read()
	if pgErrorCode(res.Err) != CodeInvalidParameterValue {
		t.Fatalf("bad format code: %v", res.Err)
	}
	// Mismatched parameter format count: 08P01, not fatal.
	res = pc.ExecParams(ctx, "SELECT $1", [][]byte{[]byte("1")}, []uint32{oidInt8}, []int16{0, 0}, nil).Read()
	if pgErrorCode(res.Err) != CodeProtocolViolation {
		t.Fatalf("format count: %v", res.Err)
	}
	if err := conn.QueryRow(ctx, "SELECT 9").Scan(&n); err != nil || n != 9 {
		t.Fatalf("after errors: %d, %v", n, err)
	}
}

func TestPreparedStatementReuse(t *testing.T) {
	ts := startServer(t, Config{})
	conn := ts.connect(t, "")
	ctx := testCtx(t)

	for i := range 5 {
		var n int64
		if err := conn.QueryRow(ctx, "SELECT $1", int64(i)).Scan(&n); err != nil || n != int64(i) {
			t.Fatalf("round %d: %d, %v", i, n, err)
		}
	}
	if got := ts.f.prepares.Load(); got != 1 {
		t.Errorf("%d Parse messages for one cached statement, want 1", got)
	}

	pc := conn.PgConn()
	sd, err := pc.Prepare(ctx, "s1", "SELECT $1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(sd.ParamOIDs) != "[20]" || len(sd.Fields) != 1 || sd.Fields[0].DataTypeOID != oidInt8 {
		t.Errorf("description %+v", sd)
	}
	for _, v := range []string{"10", "11"} {
		res := pc.ExecPrepared(ctx, "s1", [][]byte{[]byte(v)}, nil, nil).Read()
		if res.Err != nil || string(res.Rows[0][0]) != v {
			t.Fatalf("ExecPrepared %s: %+v", v, res)
		}
	}
	// A statement without rows describes as NoData.
	sd, err = pc.Prepare(ctx, "s2", "BEGIN", nil)
	if err != nil || sd.Fields != nil {
		t.Fatalf("BEGIN description: %+v, %v", sd, err)
	}
	if _, err := pc.Prepare(ctx, "s1", "SELECT 2", nil); pgErrorCode(err) != CodeDuplicatePreparedStatement {
		t.Errorf("duplicate prepare: %v", err)
	}
	if err := pc.Deallocate(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	if res := pc.ExecPrepared(ctx, "s1", [][]byte{[]byte("1")}, nil, nil).Read(); pgErrorCode(res.Err) != CodeInvalidSQLStatementName {
		t.Errorf("closed statement: %v", res.Err)
	}
	// Closing what does not exist is no error.
	if err := pc.Deallocate(ctx, "never"); err != nil {
		t.Errorf("deallocate unknown: %v", err)
	}
}

func TestPortalSuspension(t *testing.T) {
	ts := startServer(t, Config{})
	rc := ts.rawConnect(t)

	// The unnamed portal, in text, 3 rows at a time.
	rc.send(
		&pgproto3.Parse{Query: "ROWS 7"},
		&pgproto3.Bind{},
		&pgproto3.Describe{ObjectType: 'P'},
		&pgproto3.Execute{MaxRows: 3},
		&pgproto3.Execute{MaxRows: 3},
		&pgproto3.Execute{MaxRows: 3},
		&pgproto3.Sync{},
	)
	rc.expect("ParseComplete", "BindComplete", "RowDescription i:20:0",
		`DataRow "1"`, `DataRow "2"`, `DataRow "3"`, "PortalSuspended",
		`DataRow "4"`, `DataRow "5"`, `DataRow "6"`, "PortalSuspended",
		`DataRow "7"`, "CommandComplete SELECT 1",
		"ReadyForQuery I")

	// A named portal in binary, across a Flush: the rows come before Sync.
	rc.send(
		&pgproto3.Parse{Name: "st", Query: "ROWS 3"},
		&pgproto3.Describe{ObjectType: 'S', Name: "st"},
		&pgproto3.Bind{DestinationPortal: "p", PreparedStatement: "st", ResultFormatCodes: []int16{1}},
		&pgproto3.Execute{Portal: "p", MaxRows: 2},
		&pgproto3.Flush{},
	)
	rc.expect("ParseComplete", "ParameterDescription []", "RowDescription i:20:0", "BindComplete",
		`DataRow "\x00\x00\x00\x00\x00\x00\x00\x01"`, `DataRow "\x00\x00\x00\x00\x00\x00\x00\x02"`, "PortalSuspended")
	rc.send(
		&pgproto3.Execute{Portal: "p"},
		&pgproto3.Close{ObjectType: 'P', Name: "p"},
		&pgproto3.Execute{Portal: "p"}, // closed: 34000, then skip to Sync
		&pgproto3.Execute{Portal: "p"},
		&pgproto3.Sync{},
	)
	rc.expect(`DataRow "\x00\x00\x00\x00\x00\x00\x00\x03"`, "CommandComplete SELECT 1", "CloseComplete",
		"ErrorResponse 34000", "ReadyForQuery I")
}

func TestExtendedErrorsRecoverAtSync(t *testing.T) {
	ts := startServer(t, Config{})
	rc := ts.rawConnect(t)

	// A failed Parse: everything up to Sync is skipped.
	rc.send(
		&pgproto3.Parse{Query: "PARSEERROR"},
		&pgproto3.Bind{},
		&pgproto3.Describe{ObjectType: 'P'},
		&pgproto3.Execute{},
		&pgproto3.Query{String: "SELECT 1"}, // skipped too, as in PostgreSQL
		&pgproto3.Sync{},
	)
	rc.expect("ErrorResponse 42601", "ReadyForQuery I")

	// A failed Execute in a pipeline: the next statement is skipped.
	rc.send(
		&pgproto3.Parse{Query: "ERROR 42P01 no such table"}, &pgproto3.Bind{}, &pgproto3.Execute{},
		&pgproto3.Parse{Query: "SELECT 2"}, &pgproto3.Bind{}, &pgproto3.Execute{},
		&pgproto3.Sync{},
	)
	rc.expect("ParseComplete", "BindComplete", "ErrorResponse 42P01", "ReadyForQuery I")

	// Then all is well again.
	rc.send(&pgproto3.Parse{Query: "SELECT 3"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{})
	rc.expect("ParseComplete", "BindComplete", `DataRow "3"`, "CommandComplete SELECT 1", "ReadyForQuery I")

	// Unknown statement, bad Describe subtype, several statements in Parse.
	rc.send(&pgproto3.Describe{ObjectType: 'S', Name: "nope"}, &pgproto3.Sync{})
	rc.expect("ErrorResponse 26000", "ReadyForQuery I")
	rc.send(&pgproto3.Describe{ObjectType: 'X'}, &pgproto3.Sync{})
	rc.expect("ErrorResponse 08P01", "ReadyForQuery I")
	rc.send(&pgproto3.Parse{Query: "SELECT 1; SELECT 2"}, &pgproto3.Sync{})
	rc.expect("ErrorResponse 42601", "ReadyForQuery I")
	rc.send(&pgproto3.FunctionCall{Function: 1})
	rc.expect("ErrorResponse 0A000", "ReadyForQuery I")

	// Through pgx: the error and its position, then the connection works.
	conn := ts.connect(t, "")
	ctx := testCtx(t)
	_, err := conn.Exec(ctx, "ERROR 42P01 relation does not exist")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42P01" || pe.Position != 1 {
		t.Fatalf("error %v", err)
	}
	var n int64
	if err := conn.QueryRow(ctx, "SELECT 5").Scan(&n); err != nil || n != 5 {
		t.Fatalf("after error: %d, %v", n, err)
	}
}

func TestNoticesAndParameterStatus(t *testing.T) {
	ts := startServer(t, Config{})
	notices := make(chan *pgconn.Notice, 1)
	cfg, err := pgconn.ParseConfig(ts.connString(""))
	if err != nil {
		t.Fatal(err)
	}
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) { notices <- n }
	ctx := testCtx(t)
	pc, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close(context.Background())

	if _, err := pc.Exec(ctx, "NOTICE hello there; SET application_name renamed").ReadAll(); err != nil {
		t.Fatal(err)
	}
	n := <-notices
	if n.Severity != "NOTICE" || n.Code != "00000" || n.Message != "hello there" {
		t.Errorf("notice %+v", n)
	}
	if got := pc.ParameterStatus("application_name"); got != "renamed" {
		t.Errorf("application_name %q after SET", got)
	}
}

func TestCopyFrom(t *testing.T) {
	ts := startServer(t, Config{})
	pc := ts.pgConnect(t, "")
	ctx := testCtx(t)

	tag, err := pc.CopyFrom(ctx, strings.NewReader("a\nb\nc\n"), "COPY t FROM STDIN")
	if err != nil || tag.String() != "COPY 3" {
		t.Fatalf("CopyFrom: %v, %v", tag, err)
	}
	// More than one CopyData message (pgconn sends up to 64 KiB each).
	big := strings.Repeat("0123456789abcdef0123456789abcde\n", 100_000)
	tag, err = pc.CopyFrom(ctx, strings.NewReader(big), "COPY t FROM STDIN")
	if err != nil || tag.String() != "COPY 100000" {
		t.Fatalf("big CopyFrom: %v, %v", tag, err)
	}
	// A session that ends the COPY without reading it: the data is
	// consumed before CommandComplete.
	tag, err = pc.CopyFrom(ctx, strings.NewReader(big), "COPYSKIP")
	if err != nil || tag.String() != "COPY 0" {
		t.Fatalf("COPYSKIP: %v, %v", tag, err)
	}
	// The client fails the copy (CopyFail): 57014, and the connection goes on.
	_, err = pc.CopyFrom(ctx, io.MultiReader(strings.NewReader("x\n"), failingReader{}), "COPY t FROM STDIN")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != CodeQueryCanceled || !strings.Contains(pe.Message, "client gave up") {
		t.Fatalf("CopyFail: %v", err)
	}
	if res, err := pc.Exec(ctx, "SELECT 1").ReadAll(); err != nil || len(res[0].Rows) != 1 {
		t.Fatalf("after CopyFail: %v", err)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("client gave up") }

func TestCopyProtocol(t *testing.T) {
	ts := startServer(t, Config{})
	rc := ts.rawConnect(t)

	// COPY in the extended protocol; Flush and Sync are ignored in copy-in.
	rc.send(&pgproto3.Parse{Query: "COPY"}, &pgproto3.Bind{}, &pgproto3.Execute{})
	rc.expect("ParseComplete", "BindComplete", "CopyInResponse")
	rc.send(&pgproto3.CopyData{Data: []byte("1\n2")}, &pgproto3.Flush{}, &pgproto3.Sync{},
		&pgproto3.CopyData{Data: []byte("\n")}, &pgproto3.CopyDone{}, &pgproto3.Sync{})
	rc.expect("CommandComplete COPY 2", "ReadyForQuery I")

	// A message that does not belong in COPY aborts it; the client's
	// remaining copy messages are dropped.
	rc.send(&pgproto3.Query{String: "COPY"})
	rc.expect("CopyInResponse")
	rc.send(&pgproto3.CopyData{Data: []byte("1\n")}, &pgproto3.Describe{ObjectType: 'S'})
	rc.expect("ErrorResponse 08P01", "ReadyForQuery I")
	rc.send(&pgproto3.CopyData{Data: []byte("2\n")}, &pgproto3.CopyDone{}, &pgproto3.Query{String: "SELECT 4"})
	rc.expect("RowDescription ?column?:20:0", `DataRow "4"`, "CommandComplete SELECT 1", "ReadyForQuery I")
}

func TestCancelRequest(t *testing.T) {
	ts := startServer(t, Config{})
	pc := ts.pgConnect(t, "")
	ctx := testCtx(t)

	// A cancel request with the wrong secret cancels nothing.
	bad := append([]byte(nil), pc.SecretKey()...)
	bad[0] ^= 1
	sendCancel(t, ts.addr, pc.PID(), bad)

	errc := make(chan error, 1)
	go func() {
		_, err := pc.Exec(context.Background(), "SLEEP").ReadAll()
		errc <- err
	}()
	<-ts.f.sleeping
	if got := ts.f.cancels.Load(); got != 0 {
		t.Fatalf("a cancel request with a wrong key cancelled %d sessions", got)
	}
	if err := pc.CancelRequest(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; pgErrorCode(err) != CodeQueryCanceled {
		t.Fatalf("cancelled query: %v", err)
	}
	if res, err := pc.Exec(ctx, "SELECT 1").ReadAll(); err != nil || len(res[0].Rows) != 1 {
		t.Fatalf("after cancel: %v", err)
	}
}

// sendCancel sends a CancelRequest and waits for the server to close the
// connection (it answers nothing).
func sendCancel(t *testing.T, addr string, pid uint32, secret []byte) {
	t.Helper()
	nc := dial(t, addr)
	buf, _ := (&pgproto3.CancelRequest{ProcessID: pid, SecretKey: secret}).Encode(nil)
	if _, err := nc.Write(buf); err != nil {
		t.Fatal(err)
	}
	if n, err := nc.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("cancel connection: read %d, %v; want EOF", n, err)
	}
}

func TestHugeResultStreams(t *testing.T) {
	ts := startServer(t, Config{})
	conn := ts.connect(t, "")
	ctx := testCtx(t)

	rows, err := conn.Query(ctx, "ROWS 200000")
	if err != nil {
		t.Fatal(err)
	}
	var count, sum int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		count++
		sum += v
	}
	if err := rows.Err(); err != nil || count != 200000 || sum != 200000*200001/2 {
		t.Fatalf("count %d sum %d err %v", count, sum, err)
	}

	// Streaming: the session stops after 10000 rows (190 KB, more than the
	// write buffer) until the client has received the first one. A server
	// that buffered the result would deadlock here (the session gives up
	// after 20s with an error).
	rows, err = conn.Query(ctx, "STREAM 50000 10000")
	if err != nil {
		t.Fatal(err)
	}
	count = 0
	for rows.Next() {
		if count == 0 {
			close(ts.f.gate)
		}
		count++
	}
	if err := rows.Err(); err != nil || count != 50000 {
		t.Fatalf("stream: %d rows, %v", count, err)
	}
}

func TestClientGoneMidResult(t *testing.T) {
	ts := startServer(t, Config{})
	nc, fe := rawSession(t, ts.addr)
	fe.Send(&pgproto3.Query{String: "ROWS 100000000"})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if _, err := fe.Receive(); err != nil {
			t.Fatal(err)
		}
	}
	_ = nc.Close()
	// The session sees the sink fail, returns, and is closed: long before
	// it could have produced 10^8 rows.
	deadline := time.Now().Add(20 * time.Second)
	for ts.f.openSessions() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("session still open after its client left")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestStartupRejected(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := testCtx(t)
	for _, tc := range []struct{ url, code string }{
		{strings.Replace(ts.connString(""), "/defaultdb", "/nope", 1), CodeInvalidCatalogName},
		{strings.Replace(ts.connString(""), "tester@", "nobody@", 1), CodeInvalidAuthorizationSpec},
		{ts.connString("replication=database"), CodeFeatureNotSupported},
	} {
		_, err := pgconn.Connect(ctx, tc.url)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != tc.code || pe.Severity != "FATAL" {
			t.Errorf("%s: %v, want FATAL %s", tc.url, err, tc.code)
		}
	}
	if n := ts.f.openSessions(); n != 0 {
		t.Errorf("%d sessions open", n)
	}
}

func TestProtocolVersions(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := testCtx(t)

	// pgx asking for 3.2 gets it, with a 32-byte cancel key.
	pc, err := pgconn.Connect(ctx, ts.connString("min_protocol_version=3.2&max_protocol_version=3.2"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pc.SecretKey()) != 32 {
		t.Errorf("3.2 secret key of %d bytes", len(pc.SecretKey()))
	}
	// ... and its cancel key works.
	errc := make(chan error, 1)
	go func() {
		_, err := pc.Exec(context.Background(), "SLEEP").ReadAll()
		errc <- err
	}()
	<-ts.f.sleeping
	if err := pc.CancelRequest(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; pgErrorCode(err) != CodeQueryCanceled {
		t.Errorf("3.2 cancel: %v", err)
	}
	_ = pc.Close(ctx)

	for _, tc := range []struct {
		version uint32
		params  map[string]string
		want    []string
	}{
		{0x00020000, nil, []string{"ErrorResponse 0A000"}},
		{0x00040000, nil, []string{"ErrorResponse 0A000"}},
		{0x00030005, nil, []string{"NegotiateProtocolVersion 3.2 []", "AuthenticationOk"}},
		{0x00030001, nil, []string{"NegotiateProtocolVersion 3.0 []", "AuthenticationOk"}},
		{0x00030000, map[string]string{"_pq_.b": "1", "_pq_.a": "2"}, []string{"NegotiateProtocolVersion 3.0 [_pq_.a _pq_.b]", "AuthenticationOk"}},
		{0x00030000, map[string]string{"database": "x"}, []string{"ErrorResponse 28000"}}, // no user
	} {
		nc := dial(t, ts.addr)
		params := tc.params
		if params == nil {
			params = map[string]string{"user": "tester"}
		} else if _, ok := params["database"]; !ok {
			params["user"] = "tester"
		}
		buf, _ := (&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: params}).Encode(nil)
		buf[4], buf[5], buf[6], buf[7] = byte(tc.version>>24), byte(tc.version>>16), byte(tc.version>>8), byte(tc.version)
		if _, err := nc.Write(buf); err != nil {
			t.Fatal(err)
		}
		fe := pgproto3.NewFrontend(nc, nc)
		for i, want := range tc.want {
			msg, err := fe.Receive()
			if err != nil {
				t.Fatalf("version %x: %v", tc.version, err)
			}
			got := describeMsg(msg)
			if npv, ok := msg.(*pgproto3.NegotiateProtocolVersion); ok {
				got = fmt.Sprintf("NegotiateProtocolVersion 3.%d %v", npv.NewestMinorProtocol, npv.UnrecognizedOptions)
			}
			if got != want {
				t.Errorf("version %x message %d: %s, want %s", tc.version, i, got, want)
			}
		}
		_ = nc.Close()
	}
}

func TestMaxConnections(t *testing.T) {
	ts := startServer(t, Config{MaxConnections: 1})
	ts.pgConnect(t, "")
	_, err := pgconn.Connect(testCtx(t), ts.connString(""))
	if pgErrorCode(err) != CodeTooManyConnections {
		t.Fatalf("second connection: %v, want 53300", err)
	}
}

type passwordAuth struct{ password string }

func (a passwordAuth) Authenticate(ctx context.Context, p StartupParams, ex *AuthExchange) error {
	pw, err := ex.ReadCleartextPassword()
	if err != nil {
		return err
	}
	if pw != a.password {
		return &Error{Severity: SeverityFatal, Code: CodeInvalidPassword, Message: fmt.Sprintf("password authentication failed for user %q", p.User)}
	}
	return nil
}

func TestAuthenticatorHook(t *testing.T) {
	ts := startServer(t, Config{Authenticator: passwordAuth{"secret"}})
	ctx := testCtx(t)
	pc, err := pgconn.Connect(ctx, strings.Replace(ts.connString(""), "tester@", "tester:secret@", 1))
	if err != nil {
		t.Fatalf("right password: %v", err)
	}
	_ = pc.Close(ctx)
	_, err = pgconn.Connect(ctx, strings.Replace(ts.connString(""), "tester@", "tester:wrong@", 1))
	if pgErrorCode(err) != CodeInvalidPassword {
		t.Fatalf("wrong password: %v", err)
	}
}

func TestServerCloseEndsConnections(t *testing.T) {
	f := newFakeFactory()
	ts := startServerWith(t, Config{}, f)
	ctx := testCtx(t)
	idle := ts.pgConnect(t, "")
	busy := ts.pgConnect(t, "")

	errc := make(chan error, 1)
	go func() {
		_, err := busy.Exec(context.Background(), "SLEEP").ReadAll()
		errc <- err
	}()
	<-f.sleeping
	if err := ts.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; pgErrorCode(err) != CodeAdminShutdown {
		t.Errorf("busy connection: %v, want 57P01", err)
	}
	// The idle one was told too; its next use fails.
	if _, err := idle.Exec(ctx, "SELECT 1").ReadAll(); err == nil {
		t.Errorf("idle connection still works after Close")
	}
	if n := f.openSessions(); n != 0 {
		t.Errorf("%d sessions not closed", n)
	}
	if _, err := pgconn.Connect(ctx, ts.connString("")); err == nil {
		t.Errorf("connected after Close")
	}
	if err := ts.Serve(mustListen(t)); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve after Close: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg Config
		ok  bool
	}{
		{DefaultConfig(), true},
		{Config{RequireTLS: true}, false},
		{Config{MaxMessageBytes: -1}, false},
		{Config{MaxConnections: -1}, false},
		{Config{StartupTimeout: -time.Second}, false},
	} {
		if err := tc.cfg.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: %v", tc.cfg, err)
		}
	}
}

func TestParseStartupParams(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // fmt of the map, or "error"
	}{
		{"\x00", "map[]"},
		{"user\x00bob\x00\x00", "map[user:bob]"},
		{"user\x00bob\x00database\x00d\x00\x00", "map[database:d user:bob]"},
		{"user\x00\x00\x00", "map[user:]"},
		{"", "error"},
		{"user\x00bob\x00", "error"},
		{"user\x00bob", "error"},
		{"user\x00bob\x00\x00extra", "error"},
	} {
		got, err := parseStartupParams([]byte(tc.in))
		s := fmt.Sprint(got)
		if err != nil {
			s = "error"
		}
		if s != tc.want {
			t.Errorf("%q: %s, want %s", tc.in, s, tc.want)
		}
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// A panic in a session ends that connection with XX000; the server and
// other connections keep working.
func TestSessionPanicEndsOnlyItsConnection(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := testCtx(t)
	other := ts.pgConnect(t, "")
	victim := ts.pgConnect(t, "")
	_, err := victim.Exec(ctx, "PANIC").ReadAll()
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "XX000" {
		t.Fatalf("panicking statement: %v, want XX000", err)
	}
	if _, err := other.Exec(ctx, "SELECT 1").ReadAll(); err != nil {
		t.Fatalf("another connection after the panic: %v", err)
	}
	if _, err := ts.pgConnect(t, "").Exec(ctx, "SELECT 2").ReadAll(); err != nil {
		t.Fatalf("a new connection after the panic: %v", err)
	}
}
