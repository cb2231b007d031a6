# Cairn — build, run and test targets. `make test` is what CI runs.
GO        ?= go
BIN       := bin/cairn
PKGS      := ./...
TESTFLAGS ?= -race -count=1 -timeout 20m

.PHONY: build run test test-short chaos lint fmt proto bench bench-cluster bench-bank bench-idle bench-pgbench clean

build:
	$(GO) build -o $(BIN) ./cmd/cairn

# A single node with the default data dir (./cairn-data), insecure, on loopback.
run:
	$(GO) run ./cmd/cairn start --insecure

test:
	@./scripts/test-deps.sh
	$(GO) test $(TESTFLAGS) $(PKGS)

test-short:
	$(GO) test -short -count=1 $(PKGS)

# chaos: the bank workload (transaction invariants) for 180 s on three node
# processes while nodes are killed with SIGKILL and restarted and ranges
# split (`make test` runs the same test for 60 s).
chaos:
	CAIRN_E2E_BANK_DURATION=180s $(GO) test $(TESTFLAGS) -v -run '^TestBankUnderFaults$$' ./test/e2e/

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go' | grep -v '\.pb\.go$$')

# Regenerate protobuf code (generated files are committed; CI does not need protoc).
proto:
	./scripts/genproto.sh

# Benchmarks (not tests); results go to docs/benchmarks.md by hand.
# bench: single node, 64 clients, sync puts then gets.
bench: build
	./bench/kv.sh

# bench-cluster: 3-node Cairn vs 3-member etcd (installs etcd-server from Debian).
bench-cluster: build
	./bench/cluster.sh

# bench-bank: bank transfers (transactions), 16 workers, on 1 node then 3 nodes.
bench-bank: build
	./bench/bank.sh

# bench-pgbench: pgbench TPC-B and select-only, PostgreSQL vs Cairn 1 node and
# 3 nodes (installs Debian's postgresql if no /usr/lib/postgresql/*/bin);
# SCALE and DURATION override the defaults (10, 20 s).
bench-pgbench: build
	./bench/pgbench.sh

# bench-idle: CPU of 10,000 idle ranges on one store.
bench-idle:
	$(GO) test -run - -bench IdleRanges -benchtime 1x ./internal/raftstore/

clean:
	rm -rf bin
