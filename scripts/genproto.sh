#!/usr/bin/env bash
# Regenerates Go code from the .proto files. Needs protoc (Debian:
# protobuf-compiler) and the Go plugins, which this script installs.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }
GOBIN="$(go env GOPATH)/bin"
go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
export PATH="$GOBIN:$PATH"
protoc -I . --go_out=. --go_opt=module=github.com/cairndb/cairn \
  --go-grpc_out=. --go-grpc_opt=module=github.com/cairndb/cairn \
  internal/kvpb/*.proto internal/sql/catalog/catalogpb/*.proto
