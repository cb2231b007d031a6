package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/cairndb/cairn/internal/sql"
	"github.com/cairndb/cairn/internal/sql/pgwire"
)

// serveSQL starts the PostgreSQL wire protocol server on --sql-addr. With
// certificates, clients must use TLS (the node certificate; client
// certificates are not required: passwords and roles come with the
// security work).
func (s *Server) serveSQL(serverTLS *tls.Config) error {
	var tempDir string // in memory: os.TempDir()
	if !s.cfg.InMemory {
		tempDir = filepath.Join(s.cfg.DataDir, "tmp")
	}
	factory, err := sql.NewServer(sql.Config{DB: s.db, TempDir: tempDir})
	if err != nil {
		return err
	}
	cfg := pgwire.DefaultConfig()
	if serverTLS != nil {
		// A copy: net/http mutates its own config (ALPN for HTTP/2) while
		// serving, and a shared one would race with SQL handshakes.
		cfg.TLS, cfg.RequireTLS = serverTLS.Clone(), true
	}
	if s.pgwire, err = pgwire.NewServer(cfg, factory); err != nil {
		return err
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.pgwire.Serve(s.sqlLn); err != nil && !errors.Is(err, pgwire.ErrServerClosed) {
			s.fatalOnce.Do(func() { s.fatal <- fmt.Errorf("sql server: %w", err) })
		}
	}()
	return nil
}
