package sql

import (
	"context"
	"errors"
	"strings"

	"github.com/cairndb/cairn/internal/kv"
	"github.com/cairndb/cairn/internal/sql/pgwire"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
)

// Config configures the SQL front end of a node.
type Config struct {
	// DB is the node's transactional KV layer.
	DB *kv.DB
	// Version is what version() reports, e.g. "PostgreSQL 16.0 (Cairn ...)".
	Version string
	// DatabaseExists reports whether a database exists (the catalog); nil
	// accepts any name (tests of the session alone).
	DatabaseExists func(ctx context.Context, name string) (bool, error)
}

// Server creates sessions for pgwire connections.
type Server struct {
	cfg Config
}

// NewServer returns a SessionFactory for pgwire.
func NewServer(cfg Config) (*Server, error) {
	if cfg.DB == nil {
		return nil, errors.New("sql: a kv.DB is required")
	}
	return &Server{cfg: cfg}, nil
}

var _ pgwire.SessionFactory = (*Server)(nil)

// NewSession implements pgwire.SessionFactory.
func (s *Server) NewSession(ctx context.Context, p pgwire.StartupParams) (pgwire.Session, error) {
	if s.cfg.DatabaseExists != nil {
		ok, err := s.cfg.DatabaseExists(ctx, p.Database)
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
