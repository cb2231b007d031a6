package pgwire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

func mustListen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = nc.SetDeadline(time.Now().Add(30 * time.Second))
	t.Cleanup(func() { _ = nc.Close() })
	return nc
}

// startupBytes is a StartupMessage for user tester.
func startupBytes() []byte {
	buf, _ := (&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30,
		Parameters: map[string]string{"user": "tester"}}).Encode(nil)
	return buf
}

// rawSession dials, starts up, and reads up to ReadyForQuery.
func rawSession(t *testing.T, addr string) (net.Conn, *pgproto3.Frontend) {
	t.Helper()
	nc := dial(t, addr)
	if _, err := nc.Write(startupBytes()); err != nil {
		t.Fatal(err)
	}
	fe := pgproto3.NewFrontend(nc, nc)
	for {
		msg, err := fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := msg.(*pgproto3.ReadyForQuery); ok {
			return nc, fe
		}
	}
}

// expectFatalThenEOF reads an ErrorResponse with code, then the end of the
// connection.
func expectFatalThenEOF(t *testing.T, nc net.Conn, fe *pgproto3.Frontend, code string) {
	t.Helper()
	msg, err := fe.Receive()
	if err != nil {
		t.Fatalf("want ErrorResponse %s, got %v", code, err)
	}
	er, ok := msg.(*pgproto3.ErrorResponse)
	if !ok || er.Code != code || er.Severity != SeverityFatal {
		t.Fatalf("got %s (%+v), want FATAL %s", describeMsg(msg), msg, code)
	}
	if n, err := nc.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("after FATAL: read %d bytes, %v; want EOF", n, err)
	}
}

func TestMalformedMessagesEndOnlyTheirConnection(t *testing.T) {
	ts := startServer(t, Config{MaxMessageBytes: 1 << 10})
	ctx := testCtx(t)
	good := ts.pgConnect(t, "")

	msg := func(typ byte, body []byte) []byte {
		b := []byte{typ, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(b[1:], uint32(4+len(body)))
		return append(b, body...)
	}
	for name, in := range map[string][]byte{
		"unknown type":      msg('z', nil),
		"length below 4":    {'Q', 0, 0, 0, 2},
		"negative length":   {'Q', 0xff, 0xff, 0xff, 0xff},
		"oversized":         {'Q', 0, 0, 0x10, 0},
		"oversized copy":    msg('d', make([]byte, 2<<10)),
		"truncated bind":    msg('B', []byte("portal\x00stmt\x00\x00\x01")),
		"unterminated":      msg('Q', []byte("SELECT 1")),
		"password":          msg('p', []byte("pw\x00")),
		"bad describe":      msg('D', []byte("S")),
		"bad execute":       msg('E', []byte("\x00\x01")),
		"garbage":           []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		"parse bad oids":    msg('P', []byte("\x00SELECT 1\x00\x00\x05\x00")),
		"bind huge count":   msg('B', []byte("\x00\x00\x00\x00\xff\xff")),
		"describe no name":  msg('D', []byte{'S', 'x'}),
		"startup after all": startupBytes(),
	} {
		t.Run(name, func(t *testing.T) {
			nc, fe := rawSession(t, ts.addr)
			if _, err := nc.Write(in); err != nil {
				t.Fatal(err)
			}
			expectFatalThenEOF(t, nc, fe, CodeProtocolViolation)
		})
		// The other connection is unaffected.
		if res, err := good.Exec(ctx, "SELECT 1").ReadAll(); err != nil || len(res[0].Rows) != 1 {
			t.Fatalf("after %s: %v", name, err)
		}
	}
}

func TestOversizedCopyData(t *testing.T) {
	ts := startServer(t, Config{MaxMessageBytes: 1 << 10})
	nc, fe := rawSession(t, ts.addr)
	fe.Send(&pgproto3.Query{String: "COPY"})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	if msg, err := fe.Receive(); err != nil || describeMsg(msg) != "CopyInResponse" {
		t.Fatalf("got %v, %v", msg, err)
	}
	fe.Send(&pgproto3.CopyData{Data: []byte("ok\n")})
	fe.Send(&pgproto3.CopyData{Data: make([]byte, 4<<10)})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	expectFatalThenEOF(t, nc, fe, CodeProtocolViolation)
}

func TestGarbageBeforeStartup(t *testing.T) {
	ts := startServer(t, Config{})
	for name, in := range map[string][]byte{
		"http":         []byte("GET / HTTP/1.1\r\n\r\n"), // length 0x47455420: too long
		"short length": {0, 0, 0, 4},
		"long length":  {0, 1, 0, 0, 0, 3, 0, 0},
	} {
		nc := dial(t, ts.addr)
		if _, err := nc.Write(in); err != nil {
			t.Fatal(err)
		}
		// As PostgreSQL: no reply for something that is not our protocol.
		// (A close with unread input may reach us as a reset.)
		if b, _ := io.ReadAll(nc); len(b) != 0 {
			t.Errorf("%s: got %q; want a silent close", name, b)
		}
	}
	// A repeated SSLRequest is a violation.
	nc := dial(t, ts.addr)
	ssl := []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}
	if _, err := nc.Write(ssl); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	if _, err := io.ReadFull(nc, b); err != nil || b[0] != 'N' {
		t.Fatalf("SSLRequest answer %q, %v", b, err)
	}
	if _, err := nc.Write(ssl); err != nil {
		t.Fatal(err)
	}
	expectFatalThenEOF(t, nc, pgproto3.NewFrontend(nc, nc), CodeProtocolViolation)

	// A client that never sends its startup packet is dropped.
	ts2 := startServer(t, Config{StartupTimeout: 50 * time.Millisecond})
	nc = dial(t, ts2.addr)
	if _, err := io.ReadAll(nc); err != nil {
		t.Errorf("idle startup: %v", err)
	}
}

func TestTerminate(t *testing.T) {
	ts := startServer(t, Config{})
	nc, fe := rawSession(t, ts.addr)
	fe.Send(&pgproto3.Terminate{})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(nc); len(b) != 0 || err != nil {
		t.Fatalf("after Terminate: %q, %v", b, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for ts.f.openSessions() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("session not closed after Terminate")
		}
		time.Sleep(time.Millisecond)
	}
}

// fakeNetConn is an in-memory net.Conn: reads come from in, writes are
// dropped.
type fakeNetConn struct {
	in *bytes.Reader
}

func (c *fakeNetConn) Read(p []byte) (int, error)  { return c.in.Read(p) }
func (c *fakeNetConn) Write(p []byte) (int, error) { return len(p), nil }
func (c *fakeNetConn) Close() error                { return nil }
func (c *fakeNetConn) LocalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5432}
}
func (c *fakeNetConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
}
func (c *fakeNetConn) SetDeadline(time.Time) error      { return nil }
func (c *fakeNetConn) SetReadDeadline(time.Time) error  { return nil }
func (c *fakeNetConn) SetWriteDeadline(time.Time) error { return nil }

// FuzzMessageLoop feeds arbitrary bytes to a connection after a valid
// startup: it must not panic or hang, whatever comes.
func FuzzMessageLoop(f *testing.F) {
	enc := func(msgs ...pgproto3.FrontendMessage) []byte {
		var b []byte
		for _, m := range msgs {
			var err error
			if b, err = m.Encode(b); err != nil {
				panic(err)
			}
		}
		return b
	}
	f.Add(enc(&pgproto3.Query{String: "SELECT 1; ROWS 3; ERROR 42601 x; SELECT 2"}))
	f.Add(enc(&pgproto3.Parse{Name: "s", Query: "SELECT $1"}, &pgproto3.Describe{ObjectType: 'S', Name: "s"},
		&pgproto3.Bind{PreparedStatement: "s", ParameterFormatCodes: []int16{1}, Parameters: [][]byte{{0, 0, 0, 0, 0, 0, 0, 7}}, ResultFormatCodes: []int16{1}},
		&pgproto3.Execute{MaxRows: 1}, &pgproto3.Sync{}))
	f.Add(enc(&pgproto3.Parse{Query: "ROWS 5"}, &pgproto3.Bind{}, &pgproto3.Execute{MaxRows: 2}, &pgproto3.Flush{},
		&pgproto3.Execute{}, &pgproto3.Close{ObjectType: 'P'}, &pgproto3.Sync{}))
	f.Add(enc(&pgproto3.Query{String: "COPY"}, &pgproto3.CopyData{Data: []byte("a\nb\n")}, &pgproto3.CopyDone{},
		&pgproto3.Query{String: "COPY"}, &pgproto3.CopyFail{Message: "no"}, &pgproto3.Terminate{}))
	f.Add(enc(&pgproto3.Parse{Query: "PARSEERROR"}, &pgproto3.Bind{}, &pgproto3.Sync{}, &pgproto3.Query{String: "BEGIN; ERROR 1 x"}))
	f.Add([]byte("Q\x00\x00\x00\x05\x00X\x00\x00\x00\x04"))
	f.Add([]byte{'B', 0, 0, 0, 8, 0, 0, 0xff, 0xff})

	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := NewServer(Config{MaxMessageBytes: 1 << 16, Logger: discardLogger()}, &fakeFactory{maxRows: 50, noBlock: true})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = s.Close() }()
		in := append(startupBytes(), data...)
		c := newConn(s, &fakeNetConn{in: bytes.NewReader(in)})
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.serve()
			s.forget(c)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("connection did not end at the end of its input")
		}
	})
}

func TestFuzzHarnessServesSession(t *testing.T) {
	// The fuzz harness really reaches the message loop: a Query runs.
	f := &fakeFactory{maxRows: 50, noBlock: true}
	s, err := NewServer(Config{Logger: discardLogger()}, f)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	q, _ := (&pgproto3.Query{String: "SELECT 1"}).Encode(nil)
	c := newConn(s, &fakeNetConn{in: bytes.NewReader(append(startupBytes(), q...))})
	c.serve()
	if got := f.executed(); len(got) != 1 || got[0] != "SELECT 1" {
		t.Fatalf("executed %q", got)
	}
	if !errors.Is(c.io.readErr, io.EOF) {
		t.Fatalf("read error %v, want EOF", c.io.readErr)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
