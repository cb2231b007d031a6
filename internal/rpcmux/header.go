package rpcmux

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// headerSink collects the response headers of a call served on a Mux
// stream.
type headerSink struct {
	mu sync.Mutex
	md metadata.MD
}

type sinkKey struct{}

// SetHeader sets response headers of the call ctx belongs to: sent with
// the answer for a call served on a Mux stream, else by grpc.SetHeader.
// Servers set headers through it so that both kinds of calls carry them.
// On a Mux stream it refuses, as gRPC's stream SetHeader does, keys not in
// [0-9a-z-_.] and values that are not printable ASCII unless the key ends
// in "-bin" (binary values, any bytes).
func SetHeader(ctx context.Context, md metadata.MD) error {
	if s, ok := ctx.Value(sinkKey{}).(*headerSink); ok {
		if err := validateHeader(md); err != nil {
			return status.Error(codes.Internal, err.Error())
		}
		s.mu.Lock()
		s.md = metadata.Join(s.md, md)
		s.mu.Unlock()
		return nil
	}
	return grpc.SetHeader(ctx, md)
}

// validateHeader checks md as gRPC validates the metadata of a stream. A
// header the answer frame could not encode (its strings must be valid
// UTF-8) would otherwise fail the Send and with it the whole stream.
func validateHeader(md metadata.MD) error {
	for k, vs := range md {
		if k == "" {
			return fmt.Errorf("rpcmux: an empty header key")
		}
		for i := 0; i < len(k); i++ {
			if c := k[i]; !(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') && c != '.' && c != '-' && c != '_' {
				return fmt.Errorf("rpcmux: header key %q contains characters not in [0-9a-z-_.]", k)
			}
		}
		if strings.HasSuffix(k, binSuffix) {
			continue
		}
		for _, v := range vs {
			for i := 0; i < len(v); i++ {
				if v[i] < 0x20 || v[i] > 0x7e {
					return fmt.Errorf("rpcmux: header %q has a value with characters that are not printable ASCII", k)
				}
			}
		}
	}
	return nil
}

// binSuffix ends the keys of binary headers. Their values are any bytes;
// an answer frame carries them base64-encoded (as gRPC does on the wire).
const binSuffix = "-bin"

// encodeHeader returns the values of header key as an answer frame carries
// them.
func encodeHeader(key string, vs []string) []string {
	if !strings.HasSuffix(key, binSuffix) {
		return vs
	}
	enc := make([]string, len(vs))
	for i, v := range vs {
		enc[i] = base64.RawStdEncoding.EncodeToString([]byte(v))
	}
	return enc
}

// decodeHeader reverses encodeHeader (a value that is not base64 is kept as
// it is).
func decodeHeader(key string, vs []string) []string {
	if !strings.HasSuffix(key, binSuffix) {
		return vs
	}
	dec := make([]string, len(vs))
	for i, v := range vs {
		b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(v, "="))
		if err != nil {
			dec[i] = v
			continue
		}
		dec[i] = string(b)
	}
	return dec
}
