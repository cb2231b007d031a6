package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/cairndb/cairn/internal/hlc"
	"github.com/cairndb/cairn/internal/kv"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/raftstore"
	"github.com/cairndb/cairn/internal/replica"
	"github.com/cairndb/cairn/internal/security"
	"github.com/cairndb/cairn/internal/storage"
)

// Server is a running node.
type Server struct {
	cfg   Config
	lock  *lockFile
	eng   *storage.Engine
	raft  *raftstore.Store
	store *replica.Store
	db    *kv.DB
	ident *kvpb.StoreIdent

	grpc   *grpc.Server
	http   *http.Server
	rpcLn  net.Listener
	httpLn net.Listener
	wg     sync.WaitGroup

	fatalOnce sync.Once
	fatal     chan error // receives the first fatal storage error
	stopOnce  sync.Once
}

// Start opens the data dir and serves until Stop. On error everything
// opened so far is closed again.
func Start(cfg Config) (s *Server, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s = &Server{cfg: cfg, fatal: make(chan error, 1)}
	defer func() {
		if err != nil {
			s.Stop()
			s = nil
		}
	}()
	var rpcTLS, httpTLS *tls.Config
	if !cfg.Insecure {
		if rpcTLS, err = security.ServerTLSConfig(cfg.CertsDir, true); err != nil {
			return s, err
		}
		if httpTLS, err = security.ServerTLSConfig(cfg.CertsDir, false); err != nil {
			return s, err
		}
	}
	if !cfg.InMemory {
		if s.lock, err = acquireLock(cfg.DataDir); err != nil {
			return s, err
		}
	}
	ecfg := storage.DefaultConfig(filepath.Join(cfg.DataDir, "store"))
	ecfg.InMemory = cfg.InMemory
	if cfg.CacheBytes > 0 {
		ecfg.CacheBytes = cfg.CacheBytes
	}
	if s.eng, err = storage.Open(ecfg); err != nil {
		return s, fmt.Errorf("opening the store in %s (is the data dir corrupt?): %w", cfg.DataDir, err)
	}
	clock := hlc.New(nil)
	if s.ident, err = replica.ReadIdent(s.eng); err != nil {
		return s, fmt.Errorf("reading the store ident (is the data dir corrupt?): %w", err)
	}
	if !cfg.InMemory {
		if err = checkClusterMarker(cfg.DataDir, s.ident); err != nil {
			return s, err
		}
	}
	if s.ident == nil {
		if s.ident, err = replica.Bootstrap(s.eng, clock); err != nil {
			return s, fmt.Errorf("bootstrapping a new cluster: %w", err)
		}
		slog.Info("bootstrapped a new cluster", "cluster_id", s.ident.ClusterId, "node_id", s.ident.NodeId)
	}
	if !cfg.InMemory {
		// Written after every start whose store has an identity (idempotent),
		// so data dirs from before the marker existed get one too.
		if err = writeClusterMarker(cfg.DataDir, s.ident.ClusterId); err != nil {
			return s, fmt.Errorf("writing the cluster marker: %w", err)
		}
	}
	rcfg := raftstore.DefaultConfig(s.eng)
	rcfg.OnFatal = s.onFatal
	if s.raft, err = raftstore.NewStore(rcfg); err != nil {
		return s, err
	}
	s.raft.Start()
	if s.store, err = replica.NewStore(replica.Config{NodeID: s.ident.NodeId, Engine: s.eng, Raft: s.raft, Clock: clock}); err != nil {
		return s, err
	}
	if err = s.store.Start(); err != nil {
		return s, fmt.Errorf("loading ranges (is the data dir corrupt?): %w", err)
	}
	if s.db, err = kv.New(kv.Config{Local: s.store}); err != nil {
		return s, err
	}
	if err = s.serve(rpcTLS, httpTLS); err != nil {
		return s, err
	}
	if cfg.Insecure {
		slog.Warn("running in INSECURE mode: no TLS, no authentication; do not expose these ports")
	}
	slog.Info("node started", "node_id", s.ident.NodeId, "rpc", s.RPCAddr(), "http", s.HTTPAddr(), "data_dir", cfg.DataDir)
	return s, nil
}

func (s *Server) serve(rpcTLS, httpTLS *tls.Config) error {
	var err error
	if s.rpcLn, err = net.Listen("tcp", s.cfg.RPCAddr); err != nil {
		return fmt.Errorf("listening on --rpc-addr %s: %w", s.cfg.RPCAddr, err)
	}
	if s.httpLn, err = net.Listen("tcp", s.cfg.HTTPAddr); err != nil {
		return fmt.Errorf("listening on --http-addr %s: %w", s.cfg.HTTPAddr, err)
	}
	opts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(maxRPCMessageBytes), grpc.MaxSendMsgSize(maxRPCMessageBytes),
		// Reuse goroutines for streams instead of one fresh goroutine (and
		// stack growth) per request; extra streams still get their own.
		grpc.NumStreamWorkers(rpcStreamWorkers),
	}
	if rpcTLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(rpcTLS)))
	}
	s.grpc = grpc.NewServer(opts...)
	api := &kvAPI{db: s.db}
	kvpb.RegisterKVServer(s.grpc, api)
	kvpb.RegisterAdminServer(s.grpc, &adminAPI{s: s})
	s.http = &http.Server{Handler: s.httpHandler(api), TLSConfig: httpTLS, ReadHeaderTimeout: 10 * time.Second}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		if err := s.grpc.Serve(s.rpcLn); err != nil {
			s.fatalOnce.Do(func() { s.fatal <- fmt.Errorf("rpc server: %w", err) })
		}
	}()
	go func() {
		defer s.wg.Done()
		var err error
		if httpTLS != nil {
			err = s.http.ServeTLS(s.httpLn, "", "")
		} else {
			err = s.http.Serve(s.httpLn)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.fatalOnce.Do(func() { s.fatal <- fmt.Errorf("http server: %w", err) })
		}
	}()
	return nil
}

// maxRPCMessageBytes bounds one gRPC message (a batch or a scan result).
const maxRPCMessageBytes = 64 << 20

// rpcStreamWorkers is the pool of goroutines serving gRPC requests.
const rpcStreamWorkers = 128

// RPCAddr and HTTPAddr return the bound addresses (useful with port 0).
func (s *Server) RPCAddr() string  { return s.rpcLn.Addr().String() }
func (s *Server) HTTPAddr() string { return s.httpLn.Addr().String() }

// DB returns the node's KV router.
func (s *Server) DB() *kv.DB { return s.db }

// NodeID returns this node's id.
func (s *Server) NodeID() uint64 { return s.ident.NodeId }

// Done reports a fatal error or a server that stopped serving.
func (s *Server) Done() <-chan error { return s.fatal }

func (s *Server) onFatal(err error) {
	s.fatalOnce.Do(func() { s.fatal <- err })
	// The store must not continue: stop driving Raft at once (in a new
	// goroutine: this may run on a Raft worker, which Stop waits for). The
	// full Stop runs from whoever drains Done.
	if s.raft != nil {
		go s.raft.Stop()
	}
}

// Ready reports whether the node can serve: every local range has a
// leaseholder that answers, checked by a read of the meta range.
func (s *Server) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	for _, r := range s.store.Replicas() {
		if !r.IsLeaseholder() {
			if leader, _ := r.Group().Leader(); leader == 0 {
				return fmt.Errorf("range %d has no leader", r.RangeID)
			}
		}
	}
	_, err := s.db.Get(ctx, metaProbeKey)
	return err
}

// Stop shuts the node down: listeners first, then Raft, then the engine.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		// Listeners opened before a failed Start have no server to close them.
		if s.grpc == nil && s.rpcLn != nil {
			s.rpcLn.Close()
		}
		if s.http == nil && s.httpLn != nil {
			s.httpLn.Close()
		}
		if s.grpc != nil {
			done := make(chan struct{})
			go func() { s.grpc.GracefulStop(); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				s.grpc.Stop()
			}
		}
		if s.http != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = s.http.Shutdown(ctx)
			cancel()
		}
		s.wg.Wait()
		if s.raft != nil {
			s.raft.Stop()
		}
		if s.eng != nil {
			if err := s.eng.Close(); err != nil {
				slog.Error("closing the store", "err", err)
			}
		}
		if s.lock != nil {
			s.lock.release()
		}
	})
}
