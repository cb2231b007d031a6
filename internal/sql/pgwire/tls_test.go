package pgwire

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// selfSignedTLS returns a server TLS config with a fresh self-signed
// certificate for 127.0.0.1.
func selfSignedTLS(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "cairn test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		MinVersion:   tls.VersionTLS12,
	}
}

func TestTLS(t *testing.T) {
	ts := startServer(t, Config{TLS: selfSignedTLS(t), RequireTLS: true})
	ctx := testCtx(t)
	url := strings.Replace(ts.connString(""), "sslmode=disable", "sslmode=require", 1)
	pc, err := pgconn.Connect(ctx, url)
	if err != nil {
		t.Fatalf("sslmode=require: %v", err)
	}
	defer pc.Close(ctx)
	if _, ok := pc.Conn().(*tls.Conn); !ok {
		t.Errorf("connection is %T, not TLS", pc.Conn())
	}
	if p := ts.f.lastParams(); p.TLS == nil || !p.TLS.HandshakeComplete {
		t.Errorf("session sees TLS state %+v", p.TLS)
	}
	res, err := pc.Exec(ctx, "ROWS 1000").ReadAll()
	if err != nil || len(res[0].Rows) != 1000 {
		t.Fatalf("query over TLS: %v", err)
	}

	// Plaintext is refused when TLS is required.
	_, err = pgconn.Connect(ctx, ts.connString(""))
	if pgErrorCode(err) != CodeInvalidAuthorizationSpec {
		t.Fatalf("plaintext with RequireTLS: %v, want 28000", err)
	}
	// A cancel request still works without TLS (pgconn sends it in clear).
	errc := make(chan error, 1)
	go func() {
		_, err := pc.Exec(ctx, "SLEEP").ReadAll()
		errc <- err
	}()
	<-ts.f.sleeping
	if err := pc.CancelRequest(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; pgErrorCode(err) != CodeQueryCanceled {
		t.Fatalf("cancel over TLS connection: %v", err)
	}
}

func TestNoTLS(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := testCtx(t)
	// sslmode=prefer falls back to plaintext after 'N'.
	pc, err := pgconn.Connect(ctx, strings.Replace(ts.connString(""), "sslmode=disable", "sslmode=prefer", 1))
	if err != nil {
		t.Fatalf("sslmode=prefer: %v", err)
	}
	if _, ok := pc.Conn().(*tls.Conn); ok {
		t.Errorf("TLS without certificates")
	}
	_ = pc.Close(ctx)
	// sslmode=require fails: the server said 'N'.
	if _, err := pgconn.Connect(ctx, strings.Replace(ts.connString(""), "sslmode=disable", "sslmode=require", 1)); err == nil {
		t.Fatalf("sslmode=require succeeded against a server without TLS")
	}
	// GSS encryption is declined, then the startup goes on.
	nc := dial(t, ts.addr)
	if _, err := nc.Write([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30}); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	if _, err := io.ReadFull(nc, b); err != nil || b[0] != 'N' {
		t.Fatalf("GSSENCRequest answer %q, %v", b, err)
	}
	if _, err := nc.Write(startupBytes()); err != nil {
		t.Fatal(err)
	}
	msg, err := pgproto3.NewFrontend(nc, nc).Receive()
	if _, ok := msg.(*pgproto3.AuthenticationOk); !ok {
		t.Fatalf("after GSSENCRequest: %T, %v", msg, err)
	}
}
