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
	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kv"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/placement"
	"github.com/cairndb/cairn/internal/raftstore"
	"github.com/cairndb/cairn/internal/replica"
	"github.com/cairndb/cairn/internal/rpc"
	"github.com/cairndb/cairn/internal/rpcmux"
	"github.com/cairndb/cairn/internal/security"
	"github.com/cairndb/cairn/internal/sql/pgwire"
	"github.com/cairndb/cairn/internal/storage"
	"github.com/cairndb/cairn/internal/tso"
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

	clientTLS *tls.Config // for dialing other nodes (nil: insecure)
	pool      *rpc.Pool
	transport *rpc.Transport
	addrs     *addressBook
	liveness  *placement.Liveness
	tso       *tso.Batcher
	txns      *txnAPI

	grpc   *grpc.Server
	mux    *rpcmux.Server // multiplexed calls; stopped before grpc
	http   *http.Server
	rpcLn  net.Listener
	httpLn net.Listener
	sqlLn  net.Listener
	pgwire *pgwire.Server
	wg     sync.WaitGroup
	// stopper ends background tasks (registration, placement).
	stopper chan struct{}

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
	s = &Server{cfg: cfg, fatal: make(chan error, 1), stopper: make(chan struct{})}
	s.addrs = &addressBook{s: s, m: make(map[uint64]string)}
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
		if s.clientTLS, err = security.ClientTLSConfig(cfg.CertsDir, security.NodeUser); err != nil {
			return s, err
		}
	}
	if !cfg.InMemory {
		if s.lock, err = acquireLock(cfg.DataDir); err != nil {
			return s, err
		}
	}
	// Listen first: the bound address is what the node registers.
	if s.rpcLn, err = net.Listen("tcp", cfg.RPCAddr); err != nil {
		return s, fmt.Errorf("listening on --rpc-addr %s: %w", cfg.RPCAddr, err)
	}
	if s.httpLn, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return s, fmt.Errorf("listening on --http-addr %s: %w", cfg.HTTPAddr, err)
	}
	if s.sqlLn, err = net.Listen("tcp", cfg.SQLAddr); err != nil {
		return s, fmt.Errorf("listening on --sql-addr %s: %w", cfg.SQLAddr, err)
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
	var joined *kvpb.JoinResponse
	switch {
	case len(cfg.Join) > 0:
		// Join (or, after a restart, re-register and learn where meta is).
		var nodeID uint64
		if s.ident != nil {
			nodeID = s.ident.NodeId
		}
		joined, err = joinCluster(context.Background(), cfg.Join, s.RPCAddr(), nodeID, dialInternal(s.clientTLS))
		if err != nil && s.ident == nil {
			return s, err
		}
		if err != nil {
			slog.Warn("could not re-register with the cluster; continuing", "err", err)
		} else if s.ident == nil {
			s.ident = &kvpb.StoreIdent{ClusterId: joined.ClusterId, NodeId: joined.NodeId, StoreId: joined.NodeId}
			if err = replica.WriteIdent(s.eng, s.ident); err != nil {
				return s, err
			}
			slog.Info("joined the cluster", "cluster_id", s.ident.ClusterId, "node_id", s.ident.NodeId)
		} else if joined.ClusterId != s.ident.ClusterId {
			return s, fmt.Errorf("--join reached cluster %s but this node belongs to cluster %s", joined.ClusterId, s.ident.ClusterId)
		}
	case s.ident == nil:
		if s.ident, err = replica.Bootstrap(s.eng, clock, s.RPCAddr()); err != nil {
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
	s.pool = rpc.NewPool(s.clientTLS, s.addrs)
	rcfg := raftstore.DefaultConfig(s.eng)
	rcfg.OnFatal = s.onFatal
	if s.raft, err = raftstore.NewStore(rcfg); err != nil {
		return s, err
	}
	if s.store, err = replica.NewStore(replica.Config{NodeID: s.ident.NodeId, Engine: s.eng, Raft: s.raft, Clock: clock}); err != nil {
		return s, err
	}
	s.transport = rpc.NewTransport(s.ident.NodeId, s.pool, s.store, func(rangeID, replicaID uint64, ok bool) {
		if g := s.raft.Group(rangeID); g != nil {
			g.ReportSnapshot(replicaID, ok)
		}
	})
	s.raft.SetTransport(s.transport)
	s.raft.Start()
	if err = s.store.Start(); err != nil {
		return s, fmt.Errorf("loading ranges (is the data dir corrupt?): %w", err)
	}
	if s.db, err = kv.New(kv.Config{NodeID: s.ident.NodeId, Local: s.store, Remote: s.sendRemote, LocalDescriptor: s.localDescriptor}); err != nil {
		return s, err
	}
	if r := s.store.Replica(keys.MetaRangeID); r != nil {
		s.db.LearnDescriptor(r.Desc())
	}
	s.store.SetOracle(tso.NewOracle(tsoPersister{s.db}, nil, tso.DefaultWindow))
	s.tso = tso.NewBatcher(s.db.Timestamps)
	s.db.SetTimestampSource(s.tso.Now)
	s.store.SetTimestampSource(s.tso.Now)
	if joined != nil {
		s.db.LearnDescriptor(joined.MetaRange)
		s.addrs.learn(joined.Nodes...)
	}
	if err = s.serve(rpcTLS, httpTLS); err != nil {
		return s, err
	}
	epoch, err := replica.NextEpoch(s.eng)
	if err != nil {
		return s, err
	}
	s.startBackground(epoch)
	if cfg.Insecure {
		slog.Warn("running in INSECURE mode: no TLS, no authentication; do not expose these ports")
	}
	slog.Info("node started", "node_id", s.ident.NodeId, "rpc", s.RPCAddr(), "http", s.HTTPAddr(), "data_dir", cfg.DataDir)
	return s, nil
}

func (s *Server) serve(rpcTLS, httpTLS *tls.Config) error {
	opts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(maxRPCMessageBytes), grpc.MaxSendMsgSize(maxRPCMessageBytes),
		// Reuse goroutines for streams instead of one fresh goroutine (and
		// stack growth) per request; extra streams still get their own.
		grpc.NumStreamWorkers(rpcStreamWorkers),
	}
	// The unary interceptors, in order; calls on a Mux stream pass through
	// the same ones (the Mux stream itself is a client API: its Internal
	// calls are checked one by one).
	var unary []grpc.UnaryServerInterceptor
	if rpcTLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(rpcTLS)), grpc.ChainStreamInterceptor(nodeAuthStream))
		unary = append(unary, nodeAuthUnary)
	}
	hints := routeHints{self: s.ident.NodeId, addr: s.pool.Address}
	unary = append(unary, hints.unary)
	opts = append(opts, grpc.ChainUnaryInterceptor(unary...))
	s.grpc = grpc.NewServer(opts...)
	api := &kvAPI{db: s.db}
	kvpb.RegisterKVServer(s.grpc, api)
	kvpb.RegisterAdminServer(s.grpc, &adminAPI{s: s})
	s.txns = newTxnAPI(s.db)
	kvpb.RegisterTxnServer(s.grpc, s.txns)
	internal := &internalAPI{s: s}
	kvpb.RegisterInternalServer(s.grpc, internal)
	s.mux = rpcmux.NewServer(unary,
		rpcmux.Service{Desc: &kvpb.KV_ServiceDesc, Impl: api},
		rpcmux.Service{Desc: &kvpb.Txn_ServiceDesc, Impl: s.txns},
		rpcmux.Service{Desc: &kvpb.Internal_ServiceDesc, Impl: internal})
	kvpb.RegisterMuxServer(s.grpc, s.mux)
	s.http = &http.Server{Handler: s.httpHandler(api), TLSConfig: httpTLS, ReadHeaderTimeout: 10 * time.Second}
	if err := s.serveSQL(httpTLS); err != nil {
		return err
	}
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

// SQLAddr returns the bound PostgreSQL wire protocol address.
func (s *Server) SQLAddr() string { return s.sqlLn.Addr().String() }

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
		if len(r.Desc().EndKey) == 0 {
			continue // uninitialised: waits for a snapshot, serves nothing yet
		}
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
		close(s.stopper) // background tasks first: they use everything below
		if s.tso != nil {
			s.tso.Stop()
		}
		// Listeners opened before a failed Start have no server to close them.
		if s.grpc == nil && s.rpcLn != nil {
			s.rpcLn.Close()
		}
		if s.http == nil && s.httpLn != nil {
			s.httpLn.Close()
		}
		if s.pgwire != nil {
			_ = s.pgwire.Close()
		} else if s.sqlLn != nil {
			s.sqlLn.Close()
		}
		if s.grpc != nil {
			if s.mux != nil {
				s.mux.Stop() // its streams stay open for good: end them first
			}
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
		if s.db != nil {
			s.db.Close() // background commits of secondary keys
		}
		if s.raft != nil {
			s.raft.Stop()
		}
		if s.transport != nil {
			s.transport.Stop()
		}
		if s.pool != nil {
			s.pool.Close()
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

// localDescriptor is the descriptor of this node's replica of a range, if any.
func (s *Server) localDescriptor(rangeID uint64) *kvpb.RangeDescriptor {
	if r := s.store.Replica(rangeID); r != nil {
		return r.Desc()
	}
	return nil
}
