package pgwire

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

const (
	// writeBufferBytes bounds the output a connection holds before writing
	// it to the socket: a result streams out in chunks of this size.
	writeBufferBytes = 32 << 10
	// farewellTimeout bounds the write of the FATAL 57P01 that tells a
	// client the server is closing.
	farewellTimeout = time.Second
)

// conn is one client connection: its startup, then its message loop. All of
// its fields but the guarded ones belong to the connection's goroutine.
type conn struct {
	srv *Server
	log *slog.Logger
	// raw is the accepted connection; nc is raw or the TLS connection over
	// it; io wraps nc (byte counts, the first I/O errors).
	raw net.Conn
	nc  net.Conn
	io  *ioConn
	// bw buffers be's output (writeBufferBytes); be frames messages.
	bw *bufio.Writer
	be *pgproto3.Backend

	// ctx is the connection's context, done when it ends or the server
	// closes.
	ctx    context.Context
	cancel context.CancelFunc

	tlsState *tls.ConnectionState
	// key is set by Server.registerSession, under Server.mu, before the
	// conn is published in Server.mu.sessions.
	key cancelKey

	// deadlineMu orders deadline changes with Server.Close's shutdown.
	deadlineMu sync.Mutex
	// shuttingDown: all I/O deadlines are in the past (Server.Close); the
	// connection's own deadline changes are ignored. Guarded by deadlineMu.
	shuttingDown bool
	// farewell: the goroutine is sending its last message with a deadline
	// of its own, which shutdown leaves alone. Guarded by deadlineMu.
	farewell bool

	// cancelMu makes Session.Cancel and Session.Close mutually exclusive,
	// and no Cancel follow Close. session is written under it (and read
	// without it by the connection's goroutine, its only writer).
	cancelMu      sync.Mutex
	session       Session
	sessionClosed bool

	// Message loop state.
	//
	// ignoreTillSync: an extended-protocol message failed; the rest up to
	// Sync are discarded.
	ignoreTillSync bool
	// dead: stop the loop (Terminate, a FATAL sent, the connection broke).
	dead bool
	// broken is the first I/O error: the connection is unusable.
	broken error
	// fatalPending is a protocol violation found under a session call (in
	// COPY); it is sent and the connection closed once the call returns.
	fatalPending *Error
	sink         resultWriter
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{srv: s, raw: nc, nc: nc}
	c.log = s.log.With("remote", nc.RemoteAddr().String())
	c.ctx, c.cancel = context.WithCancel(s.ctx)
	c.setIO(nc)
	c.sink.c = c
	return c
}

// setIO (re)builds the I/O stack over nc (the raw or TLS connection).
func (c *conn) setIO(nc net.Conn) {
	c.nc = nc
	c.io = &ioConn{Conn: nc}
	c.bw = bufio.NewWriterSize(c.io, writeBufferBytes)
	c.be = pgproto3.NewBackend(c.io, c.bw)
	c.be.SetMaxBodyLen(c.srv.cfg.MaxMessageBytes)
}

// serve runs the connection to its end and releases it.
func (c *conn) serve() {
	defer c.finish()
	defer func() {
		// A bug in the session must end this connection, not the node.
		if r := recover(); r != nil {
			c.log.Error("pgwire: session panicked; closing the connection", "panic", r, "stack", string(debug.Stack()))
			c.sendFatal(&Error{Code: "XX000", Message: fmt.Sprintf("internal error: %v", r)})
		}
	}()
	c.setDeadline(time.Now().Add(c.srv.cfg.StartupTimeout))
	if !c.startup() {
		return
	}
	c.setDeadline(time.Time{})
	c.loop()
}

// finish closes the socket and the session.
func (c *conn) finish() {
	if !c.dead && c.broken == nil {
		_ = c.bw.Flush()
	}
	_ = c.nc.Close()
	c.cancelMu.Lock()
	sess := c.session
	c.sessionClosed = true
	c.cancelMu.Unlock()
	if sess != nil {
		sess.Close()
	}
	c.cancel()
}

// cancelSession handles a CancelRequest for this connection (from another
// goroutine).
func (c *conn) cancelSession() {
	c.cancelMu.Lock()
	defer c.cancelMu.Unlock()
	if c.session != nil && !c.sessionClosed {
		c.session.Cancel()
	}
}

// shutdown is Server.Close telling the connection to end: every blocked
// read or write returns at once.
func (c *conn) shutdown() {
	c.deadlineMu.Lock()
	defer c.deadlineMu.Unlock()
	c.shuttingDown = true
	if !c.farewell {
		_ = c.raw.SetDeadline(time.Now())
	}
}

// setDeadline sets the I/O deadline unless the server is closing.
func (c *conn) setDeadline(t time.Time) {
	c.deadlineMu.Lock()
	defer c.deadlineMu.Unlock()
	if !c.shuttingDown {
		_ = c.raw.SetDeadline(t)
	}
}

// sayFarewell tells the client that the server is closing (FATAL 57P01)
// and ends the loop.
func (c *conn) sayFarewell() {
	c.deadlineMu.Lock()
	c.shuttingDown = true
	c.farewell = true
	_ = c.raw.SetReadDeadline(time.Now())
	_ = c.raw.SetWriteDeadline(time.Now().Add(farewellTimeout))
	c.deadlineMu.Unlock()
	c.sendFatal(&Error{Severity: SeverityFatal, Code: CodeAdminShutdown,
		Message: "terminating connection due to administrator command"})
}

// send frames msg into the output buffer (written to the socket when the
// buffer fills, or at flush). It fails once the connection is broken.
func (c *conn) send(msg pgproto3.BackendMessage) error {
	if c.broken != nil {
		return c.broken
	}
	if c.fatalPending != nil {
		return c.fatalPending
	}
	c.be.Send(msg)
	if err := c.be.Flush(); err != nil {
		if c.io.writeErr != nil {
			c.broken = c.io.writeErr
			return c.broken
		}
		// An encoding failure (e.g. more than 65535 columns): the
		// connection is fine, the statement is not.
		return &Error{Code: "54000", Message: fmt.Sprintf("cannot encode %T: %v", msg, err)}
	}
	return nil
}

// flush writes the buffered output to the socket.
func (c *conn) flush() error {
	if c.broken != nil {
		return c.broken
	}
	if err := c.bw.Flush(); err != nil {
		c.broken = err
		return err
	}
	return nil
}

// sendError reports err to the client: an ErrorResponse, or the end of the
// connection if err is FATAL, the connection broke, or the server closes.
func (c *conn) sendError(err error) {
	if c.fatalPending != nil {
		c.sendFatal(c.fatalPending)
		return
	}
	if c.broken != nil {
		c.dead = true
		return
	}
	if c.srv.ctx.Err() != nil {
		c.sayFarewell()
		return
	}
	e := toError(err)
	var asError *Error
	if !errors.As(err, &asError) {
		c.log.Warn("pgwire: session returned an error without SQLSTATE", "err", err)
	}
	if e.fatal() {
		c.sendFatal(e)
		return
	}
	_ = c.send(e.errorResponse())
}

// sendFatal sends a FATAL error and ends the loop.
func (c *conn) sendFatal(e *Error) {
	c.fatalPending = nil
	c.dead = true
	if c.broken != nil {
		return
	}
	c.log.Debug("pgwire: closing connection", "code", e.Code, "msg", e.Message)
	if !e.fatal() {
		c2 := *e
		c2.Severity = SeverityFatal
		e = &c2
	}
	if c.send(e.errorResponse()) == nil {
		_ = c.flush()
	}
}

// receiveError classifies an error of Backend.Receive: an I/O error (the
// client went away, a deadline passed) is returned as is; anything else is a
// malformed or oversized message, returned as a FATAL 08P01 *Error.
func (c *conn) receiveError(err error) error {
	if c.io.readErr != nil {
		return c.io.readErr
	}
	metricProtocolErrors.Inc()
	var tooBig *pgproto3.ExceededMaxBodyLenErr
	if errors.As(err, &tooBig) {
		return protocolViolation("message of %d bytes exceeds the limit of %d bytes", tooBig.ActualBodyLen, tooBig.MaxExpectedBodyLen)
	}
	return protocolViolation("invalid message: %v", err)
}

// ioConn counts the bytes through a connection and keeps its first read
// and write errors, which tell I/O failures from malformed messages.
type ioConn struct {
	net.Conn
	readErr, writeErr error
}

func (c *ioConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	metricBytesReceived.Add(float64(n))
	if err != nil && c.readErr == nil {
		c.readErr = err
	}
	return n, err
}

func (c *ioConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	metricBytesSent.Add(float64(n))
	if err != nil && c.writeErr == nil {
		c.writeErr = err
	}
	return n, err
}
