package sql

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/cairndb/cairn/internal/kv"
	"github.com/cairndb/cairn/internal/sql/catalog"
	"github.com/cairndb/cairn/internal/sql/pgwire"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
)

// Config configures the SQL front end of a node.
type Config struct {
	// DB is the node's transactional KV layer.
	DB *kv.DB
	// Version is what version() reports, e.g. "PostgreSQL 16.0 (Cairn ...)".
	Version string
	// DatabaseExists reports whether a database exists; nil asks the
	// catalog (creating defaultdb and postgres on first use).
	DatabaseExists func(ctx context.Context, name string) (bool, error)
	// TempDir holds the temporary files of sorts past work_mem (sort.go);
	// "" is os.TempDir(). NewServer creates it and removes files a
	// previous process left there.
	TempDir string
}

// Server creates sessions for pgwire connections.
type Server struct {
	cfg       Config
	catalog   *catalog.Cache
	sequences *catalog.Sequences

	// bootMu guards booted: the default databases exist.
	bootMu sync.Mutex
	booted bool
}

// NewServer returns a SessionFactory for pgwire.
func NewServer(cfg Config) (*Server, error) {
	if cfg.DB == nil {
		return nil, errors.New("sql: a kv.DB is required")
	}
	if cfg.TempDir != "" {
		if err := os.MkdirAll(cfg.TempDir, 0o700); err != nil {
			return nil, err
		}
		if stale, err := filepath.Glob(filepath.Join(cfg.TempDir, "cairn-sort-*")); err == nil {
			for _, f := range stale {
				_ = os.Remove(f)
			}
		}
	}
	return &Server{cfg: cfg, catalog: catalog.NewCache(), sequences: catalog.NewSequences(cfg.DB)}, nil
}

var _ pgwire.SessionFactory = (*Server)(nil)

// NewSession implements pgwire.SessionFactory.
func (s *Server) NewSession(ctx context.Context, p pgwire.StartupParams) (pgwire.Session, error) {
	exists := s.cfg.DatabaseExists
	if exists == nil {
		exists = s.databaseExists
	}
	{
		ok, err := exists(ctx, p.Database)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, &pgwire.Error{Severity: "FATAL", Code: sqlerr.CodeInvalidCatalogName,
				Message: "database \"" + p.Database + "\" does not exist"}
		}
	}
	sess := newSession(ctx, s, p)
	if opts := p.Params["options"]; opts != "" {
		if err := sess.applyStartupOptions(opts); err != nil {
			return nil, err
		}
	}
	for name, v := range p.Params {
		switch name {
		case "user", "database", "options", "replication":
			continue
		}
		if _, known := sessionVars[strings.ToLower(name)]; known {
			if err := sess.vars.set(strings.ToLower(name), v); err != nil {
				return nil, toPgError(err)
			}
		}
	}
	return sess, nil
}

// databaseExists asks the catalog, bootstrapping the default databases
// the first time (idempotent across nodes).
func (s *Server) databaseExists(ctx context.Context, name string) (bool, error) {
	s.bootMu.Lock()
	if !s.booted {
		if err := catalog.Bootstrap(ctx, s.cfg.DB); err != nil {
			s.bootMu.Unlock()
			return false, err // tried again by the next connection
		}
		s.booted = true
	}
	s.bootMu.Unlock()
	var found bool
	err := catalog.RunTxn(ctx, s.cfg.DB, func(ctx context.Context, txn *kv.Txn) error {
		db, err := catalog.GetDatabase(ctx, txn, name)
		found = db != nil
		return err
	})
	return found, err
}
