package security

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// newCerts creates a CA, a node cert for 127.0.0.1/localhost and a client
// cert for each user in a fresh certs dir (which does not exist beforehand).
func newCerts(t *testing.T, users ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "certs")
	if err := CreateCA(dir, "", false); err != nil {
		t.Fatal(err)
	}
	if err := CreateNodeCert(dir, "", []string{"127.0.0.1", "localhost", "::1"}, false); err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if err := CreateClientCert(dir, "", u, false); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type handshake struct {
	user string
	ok   bool
	err  error
}

// serve accepts TLS connections on 127.0.0.1 until the test ends, reporting
// each handshake and answering "ok" to the successful ones.
func serve(t *testing.T, cfg *tls.Config) (string, <-chan handshake) {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	results := make(chan handshake, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			tc := c.(*tls.Conn)
			_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
			h := handshake{err: tc.Handshake()}
			if h.err == nil {
				h.user, h.ok = PeerUser(tc.ConnectionState())
				_, _ = tc.Write([]byte("ok"))
			}
			_ = tc.Close()
			results <- h
		}
	}()
	t.Cleanup(func() { _ = ln.Close(); <-done })
	return ln.Addr().String(), results
}

// dial connects, letting crypto/tls derive ServerName from addr, and expects "ok".
func dial(addr string, cfg *tls.Config) error {
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second}, Config: cfg}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 2)
	if _, err := io.ReadFull(c, buf); err != nil {
		return err
	}
	if string(buf) != "ok" {
		return errors.New("unexpected reply " + string(buf))
	}
	return nil
}

func next(t *testing.T, ch <-chan handshake) handshake {
	t.Helper()
	select {
	case h := <-ch:
		return h
	case <-time.After(15 * time.Second):
		t.Fatal("server saw no connection")
		return handshake{}
	}
}

func clientConfig(t *testing.T, dir, user string) *tls.Config {
	t.Helper()
	cfg, err := ClientTLSConfig(dir, user)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestMutualTLS(t *testing.T) {
	dir := newCerts(t, "alice")
	srv, err := ServerTLSConfig(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	addr, results := serve(t, srv)
	for _, user := range []string{"alice", NodeUser} {
		if err := dial(addr, clientConfig(t, dir, user)); err != nil {
			t.Fatalf("%s: dial: %v", user, err)
		}
		if h := next(t, results); h.err != nil || !h.ok || h.user != user {
			t.Fatalf("%s: server saw %+v", user, h)
		}
	}
}

func TestRejected(t *testing.T) {
	dir := newCerts(t, "alice")
	other := newCerts(t, "alice") // a second, unrelated CA
	srv, err := ServerTLSConfig(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	addr, results := serve(t, srv)

	noCert := clientConfig(t, dir, "")
	tls12 := clientConfig(t, dir, "alice")
	tls12.MinVersion, tls12.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
	trustsOther := clientConfig(t, dir, "alice")
	trustsOther.RootCAs = clientConfig(t, other, "").RootCAs
	otherCert := clientConfig(t, other, "alice")
	otherCert.RootCAs = noCert.RootCAs
	wrongName := clientConfig(t, dir, "alice")
	wrongName.ServerName = "db.example.com"

	for name, cfg := range map[string]*tls.Config{
		"no client cert":          noCert,
		"TLS 1.2 only":            tls12,
		"trusts another CA":       trustsOther,
		"cert from another CA":    otherCert,
		"server name not in SANs": wrongName,
	} {
		err := dial(addr, cfg)
		if err == nil {
			t.Errorf("%s: client connected", name)
		}
		h := next(t, results)
		if h.err == nil {
			t.Errorf("%s: server handshake succeeded: %+v", name, h)
		}
		t.Logf("%s: client: %v; server: %v", name, err, h.err)
	}
}

func TestOptionalClientCert(t *testing.T) {
	dir := newCerts(t, "alice")
	srv, err := ServerTLSConfig(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	addr, results := serve(t, srv)
	// "bob" has no client cert: the config presents none and the server allows it.
	bob := clientConfig(t, dir, "bob")
	if len(bob.Certificates) != 0 {
		t.Fatal("bob's config presents a certificate")
	}
	for user, want := range map[string]handshake{"bob": {}, "alice": {user: "alice", ok: true}} {
		if err := dial(addr, clientConfig(t, dir, user)); err != nil {
			t.Fatalf("%s: dial: %v", user, err)
		}
		if h := next(t, results); h != want {
			t.Fatalf("%s: server saw %+v, want %+v", user, h, want)
		}
	}
}

func TestCertContents(t *testing.T) {
	dir := newCerts(t, "alice")
	load := func(name string) *x509.Certificate {
		certs, err := readCerts(filepath.Join(dir, name), "")
		if err != nil {
			t.Fatal(err)
		}
		return certs[0]
	}
	years := func(c *x509.Certificate) int { return int(c.NotAfter.Sub(c.NotBefore).Hours()/24/365 + 0.5) }

	ca, node, client := load(CACertFile), load(NodeCertFile), load(ClientCertFile("alice"))
	if !ca.IsCA || years(ca) != 10 {
		t.Errorf("CA: IsCA=%v, %d years", ca.IsCA, years(ca))
	}
	if node.Subject.CommonName != "node" || years(node) != 5 ||
		len(node.ExtKeyUsage) != 2 || node.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth || node.ExtKeyUsage[1] != x509.ExtKeyUsageClientAuth {
		t.Errorf("node: CN %q, %d years, EKU %v", node.Subject.CommonName, years(node), node.ExtKeyUsage)
	}
	if len(node.IPAddresses) != 2 || !node.IPAddresses[0].Equal(net.IPv4(127, 0, 0, 1)) || !node.IPAddresses[1].Equal(net.IPv6loopback) ||
		len(node.DNSNames) != 1 || node.DNSNames[0] != "localhost" {
		t.Errorf("node SANs: IPs %v, DNS %v", node.IPAddresses, node.DNSNames)
	}
	if client.Subject.CommonName != "alice" || years(client) != 5 ||
		len(client.ExtKeyUsage) != 1 || client.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
		t.Errorf("client: CN %q, %d years, EKU %v", client.Subject.CommonName, years(client), client.ExtKeyUsage)
	}
	for _, c := range []*x509.Certificate{node, client} {
		if err := c.CheckSignatureFrom(ca); err != nil {
			t.Errorf("%s not signed by CA: %v", c.Subject.CommonName, err)
		}
	}

	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("certs dir: %v %v", fi.Mode(), err)
	}
	for name, want := range map[string]fs.FileMode{
		CAKeyFile: 0o600, NodeKeyFile: 0o600, ClientKeyFile("alice"): 0o600, CACertFile: 0o644, NodeCertFile: 0o644,
	} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v (%v)", name, fi.Mode().Perm(), want, err)
		}
	}
}

func TestOverwrite(t *testing.T) {
	dir := newCerts(t, "alice")
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for name, create := range map[string]func(bool) error{
		CACertFile:              func(o bool) error { return CreateCA(dir, "", o) },
		NodeCertFile:            func(o bool) error { return CreateNodeCert(dir, "", []string{"127.0.0.1"}, o) },
		ClientCertFile("alice"): func(o bool) error { return CreateClientCert(dir, "", "alice", o) },
	} {
		before := read(name)
		err := create(false)
		if !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), "--overwrite") {
			t.Errorf("%s: recreating without overwrite: %v", name, err)
		}
		if !bytes.Equal(read(name), before) {
			t.Errorf("%s changed without overwrite", name)
		}
		if err := create(true); err != nil {
			t.Errorf("%s: overwrite: %v", name, err)
		}
		if bytes.Equal(read(name), before) {
			t.Errorf("%s unchanged after overwrite", name)
		}
	}

	// Only the client cert is left from the old CA: replace the CA and the
	// node cert, and the client cert no longer loads.
	if err := CreateCA(dir, "", true); err != nil {
		t.Fatal(err)
	}
	if _, err := ClientTLSConfig(dir, "alice"); err == nil || !strings.Contains(err.Error(), "not valid for the CA") {
		t.Errorf("client cert of a replaced CA: %v", err)
	}
}

func TestBadInput(t *testing.T) {
	dir := newCerts(t)
	for _, user := range []string{"", "a b", "../x", "x/y", "é", "node", strings.Repeat("a", 64)} {
		if err := CreateClientCert(dir, "", user, false); err == nil {
			t.Errorf("user %q accepted", user)
		}
		if _, err := os.Stat(filepath.Join(dir, ClientCertFile(user))); err == nil {
			t.Errorf("user %q: file written", user)
		}
	}
	if err := CreateClientCert(dir, "", "A-z_0.9"+strings.Repeat("a", 56), false); err != nil {
		t.Errorf("63-character user: %v", err)
	}
	for _, hosts := range [][]string{nil, {""}, {"localhost:26257"}, {"http://x"}} {
		if err := CreateNodeCert(dir, "", hosts, true); err == nil {
			t.Errorf("hosts %q accepted", hosts)
		}
	}
}

func TestMissingAndInvalidFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	wantErr := func(err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got error %v, want one containing %q", err, want)
		}
	}
	_, err := ServerTLSConfig(dir, true)
	wantErr(err, "ca.crt not found in "+dir+": run `cairn cert create-ca --certs-dir "+dir+"`")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%v does not match fs.ErrNotExist", err)
	}
	_, err = ClientTLSConfig(dir, "")
	wantErr(err, "ca.crt not found")
	wantErr(CreateNodeCert(dir, "", []string{"localhost"}, false), "ca.crt not found")

	if err := CreateCA(dir, "", false); err != nil {
		t.Fatal(err)
	}
	_, err = ServerTLSConfig(dir, true)
	wantErr(err, "node.crt not found in "+dir+": run `cairn cert create-node --certs-dir "+dir+" HOST...`")
	_, err = ClientTLSConfig(dir, "node")
	wantErr(err, "node.crt not found")

	if err := CreateClientCert(dir, "", "alice", false); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, ClientKeyFile("alice"))); err != nil {
		t.Fatal(err)
	}
	_, err = ClientTLSConfig(dir, "alice")
	wantErr(err, "client.alice.key not found in "+dir+": run `cairn cert create-client --certs-dir "+dir+" alice`")

	if err := os.WriteFile(filepath.Join(dir, CACertFile), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = ClientTLSConfig(dir, "")
	wantErr(err, filepath.Join(dir, CACertFile)+" holds no PEM certificate")
}

func TestSeparateCAKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	caKey := filepath.Join(t.TempDir(), "secret", "ca.key")
	if err := CreateCA(dir, caKey, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, CAKeyFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ca.key written to certs dir: %v", err)
	}
	if err := CreateNodeCert(dir, "", []string{"127.0.0.1"}, false); err == nil || !strings.Contains(err.Error(), "CA key "+filepath.Join(dir, CAKeyFile)+" not found") {
		t.Errorf("node cert without CA key: %v", err)
	}
	if err := CreateNodeCert(dir, caKey, []string{"127.0.0.1"}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := ServerTLSConfig(dir, true); err != nil {
		t.Fatal(err)
	}

	// A key that does not belong to ca.crt is refused.
	otherKey := filepath.Join(t.TempDir(), "ca.key")
	if err := CreateCA(t.TempDir(), otherKey, false); err != nil {
		t.Fatal(err)
	}
	if err := CreateClientCert(dir, otherKey, "alice", false); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("client cert with wrong CA key: %v", err)
	}
}
