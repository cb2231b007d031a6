package pgwire

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"
)

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("pgwire: server closed")

// Server accepts connections on listeners and serves each in its own
// goroutine with a Session from the factory.
type Server struct {
	cfg     Config
	factory SessionFactory
	log     *slog.Logger

	// ctx is the parent of every connection's context; Close cancels it.
	ctx    context.Context
	cancel context.CancelFunc

	// wg counts the running Serve loops and connection goroutines. Add is
	// only called under mu while !mu.closed, so that Close's Wait cannot
	// race with it.
	wg sync.WaitGroup

	mu struct {
		sync.Mutex
		// closed is set by Close; no listener or connection is added after.
		closed    bool
		listeners map[net.Listener]struct{}
		// conns holds every connection goroutine's conn, from accept to exit.
		conns map[*conn]struct{}
		// sessions maps process ids (BackendKeyData) to the connections that
		// completed startup, for CancelRequest and MaxConnections.
		// Invariant: every conn in sessions is in conns.
		sessions map[uint32]*conn
	}
}

// NewServer returns a server; Serve starts it.
func NewServer(cfg Config, factory SessionFactory) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if factory == nil {
		return nil, errors.New("pgwire: nil SessionFactory")
	}
	cfg = cfg.withDefaults()
	s := &Server{cfg: cfg, factory: factory, log: cfg.Logger}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.mu.listeners = make(map[net.Listener]struct{})
	s.mu.conns = make(map[*conn]struct{})
	s.mu.sessions = make(map[uint32]*conn)
	return s, nil
}

// Serve accepts connections on ln until Close (then it returns
// ErrServerClosed) or until ln fails for good. Serve closes ln. It may run on
// several listeners at once.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.mu.closed {
		s.mu.Unlock()
		_ = ln.Close()
		return ErrServerClosed
	}
	s.mu.listeners[ln] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.mu.listeners, ln)
		s.mu.Unlock()
		_ = ln.Close()
	}()

	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			// Transient (e.g. out of file descriptors): back off, as
			// net/http does, rather than spin or give up.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("pgwire: accept failed; retrying", "err", err, "backoff", backoff)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-s.ctx.Done():
				t.Stop()
			}
			continue
		}
		backoff = 0
		c := newConn(s, nc)
		s.mu.Lock()
		if s.mu.closed {
			s.mu.Unlock()
			_ = nc.Close()
			return ErrServerClosed
		}
		s.mu.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		metricConnsTotal.Inc()
		metricConnsOpen.Inc()
		go func() {
			defer s.wg.Done()
			defer metricConnsOpen.Dec()
			defer s.forget(c)
			c.serve()
		}()
	}
}

// Close stops the server: it closes the listeners, tells every connection
// to end (clients in a query or idle get FATAL 57P01 admin_shutdown), and
// waits for the Serve loops and connection goroutines to return. Sessions
// see their context done and must return promptly.
func (s *Server) Close() error {
	s.mu.Lock()
	already := s.mu.closed
	s.mu.closed = true
	var lns []net.Listener
	for ln := range s.mu.listeners {
		lns = append(lns, ln)
	}
	var conns []*conn
	for c := range s.mu.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	if !already {
		s.cancel()
		for _, ln := range lns {
			_ = ln.Close()
		}
		for _, c := range conns {
			c.shutdown()
		}
	}
	s.wg.Wait()
	return nil
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.closed
}

// forget removes an ended connection.
func (s *Server) forget(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.mu.conns, c)
	if c.key.pid != 0 && s.mu.sessions[c.key.pid] == c {
		delete(s.mu.sessions, c.key.pid)
	}
}

// cancelKey is the BackendKeyData of a connection: a CancelRequest must
// carry both.
type cancelKey struct {
	pid    uint32
	secret []byte
}

// registerSession gives c a fresh cancel key with a secret of secretLen
// random bytes and counts it against MaxConnections. It fails with 53300 if
// the server is full, 57P01 if it is closing.
func (s *Server) registerSession(c *conn, secretLen int) error {
	secret := make([]byte, secretLen)
	_, _ = rand.Read(secret) // crypto/rand.Read never fails (Go 1.24+).
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closed {
		return &Error{Severity: SeverityFatal, Code: CodeAdminShutdown, Message: "the server is shutting down"}
	}
	if limit := s.cfg.MaxConnections; limit > 0 && len(s.mu.sessions) >= limit {
		return &Error{Severity: SeverityFatal, Code: CodeTooManyConnections, Message: "sorry, too many clients already"}
	}
	var b [4]byte
	for {
		_, _ = rand.Read(b[:])
		// Keep pids positive as int32: some clients store them signed.
		pid := binary.BigEndian.Uint32(b[:]) & 0x7fffffff
		if _, taken := s.mu.sessions[pid]; pid != 0 && !taken {
			c.key = cancelKey{pid: pid, secret: secret}
			s.mu.sessions[pid] = c
			return nil
		}
	}
}

// cancel handles a CancelRequest: it cancels the session whose key matches,
// if any. As in PostgreSQL, the requester is told nothing either way.
func (s *Server) cancelSession(pid uint32, secret []byte) {
	s.mu.Lock()
	c := s.mu.sessions[pid]
	s.mu.Unlock()
	if c == nil || subtle.ConstantTimeCompare(c.key.secret, secret) != 1 {
		s.log.Debug("pgwire: cancel request matches no session", "pid", pid)
		return
	}
	c.cancelSession()
}
