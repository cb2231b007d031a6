package pgwire

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// testServer is a Server on a loopback port with a fake session factory.
type testServer struct {
	*Server
	f    *fakeFactory
	addr string
}

// startServer serves cfg with a fresh fakeFactory until the test ends.
func startServer(t *testing.T, cfg Config) *testServer {
	t.Helper()
	return startServerWith(t, cfg, newFakeFactory())
}

func startServerWith(t *testing.T, cfg Config, f *fakeFactory) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := NewServer(cfg, f)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return &testServer{Server: s, f: f, addr: ln.Addr().String()}
}

// connString returns a URL for the server; extra is appended to the query.
func (ts *testServer) connString(extra string) string {
	s := fmt.Sprintf("postgres://tester@%s/defaultdb?sslmode=disable&connect_timeout=10", ts.addr)
	if extra != "" {
		s += "&" + extra
	}
	return s
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// connect opens a pgx connection closed at the end of the test.
func (ts *testServer) connect(t *testing.T, extra string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(testCtx(t), ts.connString(extra))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// pgConnect opens a pgconn connection closed at the end of the test.
func (ts *testServer) pgConnect(t *testing.T, extra string) *pgconn.PgConn {
	t.Helper()
	conn, err := pgconn.Connect(testCtx(t), ts.connString(extra))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// rawClient speaks the protocol with pgproto3 over a connection that pgconn
// established (Hijack), for sequences a driver does not send.
type rawClient struct {
	t  *testing.T
	nc net.Conn
	fe *pgproto3.Frontend
}

func (ts *testServer) rawConnect(t *testing.T) *rawClient {
	t.Helper()
	pc, err := pgconn.Connect(testCtx(t), ts.connString(""))
	if err != nil {
		t.Fatal(err)
	}
	h, err := pc.Hijack()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Conn.Close() })
	_ = h.Conn.SetDeadline(time.Now().Add(30 * time.Second))
	return &rawClient{t: t, nc: h.Conn, fe: h.Frontend}
}

func (rc *rawClient) send(msgs ...pgproto3.FrontendMessage) {
	rc.t.Helper()
	for _, m := range msgs {
		rc.fe.Send(m)
	}
	if err := rc.fe.Flush(); err != nil {
		rc.t.Fatal(err)
	}
}

// receive returns the next message's description, e.g. "DataRow [1]",
// "CommandComplete SELECT 3", "ErrorResponse 08P01", "ReadyForQuery I".
func (rc *rawClient) receive() string {
	rc.t.Helper()
	msg, err := rc.fe.Receive()
	if err != nil {
		rc.t.Fatalf("receive: %v", err)
	}
	return describeMsg(msg)
}

func describeMsg(msg pgproto3.BackendMessage) string {
	switch m := msg.(type) {
	case *pgproto3.DataRow:
		s := "DataRow"
		for _, v := range m.Values {
			s += fmt.Sprintf(" %q", v)
		}
		return s
	case *pgproto3.CommandComplete:
		return "CommandComplete " + string(m.CommandTag)
	case *pgproto3.ErrorResponse:
		return "ErrorResponse " + m.Code
	case *pgproto3.ReadyForQuery:
		return "ReadyForQuery " + string(m.TxStatus)
	case *pgproto3.RowDescription:
		s := "RowDescription"
		for _, f := range m.Fields {
			s += fmt.Sprintf(" %s:%d:%d", f.Name, f.DataTypeOID, f.Format)
		}
		return s
	case *pgproto3.ParameterDescription:
		return fmt.Sprintf("ParameterDescription %v", m.ParameterOIDs)
	default:
		return fmt.Sprintf("%T", msg)[len("*pgproto3."):]
	}
}

// expect receives len(want) messages and checks their descriptions.
func (rc *rawClient) expect(want ...string) {
	rc.t.Helper()
	for i, w := range want {
		if got := rc.receive(); got != w {
			rc.t.Fatalf("message %d: got %q, want %q", i, got, w)
		}
	}
}

// pgErrorCode returns the SQLSTATE of err, or "" if it has none.
func pgErrorCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}
