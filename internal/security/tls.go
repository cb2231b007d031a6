package security

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ServerTLSConfig returns the config of a node's listener: it serves node.crt,
// accepts only TLS 1.3 and verifies client certificates against ca.crt. With
// requireClientCert every peer must present one (tls.RequireAndVerifyClientCert);
// otherwise a certificate is checked only if given (tls.VerifyClientCertIfGiven)
// and the caller must authenticate certificate-less peers some other way.
func ServerTLSConfig(certsDir string, requireClientCert bool) (*tls.Config, error) {
	pool, err := loadCAPool(certsDir)
	if err != nil {
		return nil, err
	}
	cert, err := loadKeyPair(certsDir, NodeCertFile, NodeKeyFile, hintNode(certsDir), pool, x509.ExtKeyUsageServerAuth)
	if err != nil {
		return nil, err
	}
	auth := tls.VerifyClientCertIfGiven
	if requireClientCert {
		auth = tls.RequireAndVerifyClientCert
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		ClientCAs:    pool,
		ClientAuth:   auth,
	}, nil
}

// ClientTLSConfig returns the config for dialing a node: TLS 1.3 only, server
// verified against ca.crt. For user "node" it presents node.crt (node-to-node
// traffic); for another non-empty user it presents client.<user>.crt if that
// file exists and no certificate otherwise; for "" it presents none.
//
// ServerName is left empty: tls.Dial, tls.Dialer and gRPC's TLS credentials
// fill it in from the dialed address, so the server certificate is checked
// against the host (DNS SAN) or IP literal (IP SAN) being dialed. Callers that
// wrap an existing net.Conn with tls.Client must Clone the config and set
// ServerName themselves.
func ClientTLSConfig(certsDir, user string) (*tls.Config, error) {
	pool, err := loadCAPool(certsDir)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: pool}
	var certName, keyName, hint string
	switch user {
	case "":
		return cfg, nil
	case NodeUser:
		certName, keyName, hint = NodeCertFile, NodeKeyFile, hintNode(certsDir)
	default:
		if err := ValidateUser(user); err != nil {
			return nil, err
		}
		certName, keyName, hint = ClientCertFile(user), ClientKeyFile(user), hintClient(certsDir, user)
		if _, err := os.Stat(filepath.Join(certsDir, certName)); errors.Is(err, fs.ErrNotExist) {
			return cfg, nil
		}
	}
	cert, err := loadKeyPair(certsDir, certName, keyName, hint, pool, x509.ExtKeyUsageClientAuth)
	if err != nil {
		return nil, err
	}
	cfg.Certificates = []tls.Certificate{cert}
	return cfg, nil
}

// PeerUser returns the CommonName of the peer's verified certificate: the
// client user, or "node" for another node. It is meant for the server side of
// a completed handshake; ok is false if the peer presented no certificate.
func PeerUser(state tls.ConnectionState) (user string, ok bool) {
	if len(state.VerifiedChains) == 0 || len(state.VerifiedChains[0]) == 0 {
		return "", false
	}
	cn := state.VerifiedChains[0][0].Subject.CommonName
	return cn, cn != ""
}

func loadCAPool(certsDir string) (*x509.CertPool, error) {
	certs, err := readCerts(filepath.Join(certsDir, CACertFile), hintCA(certsDir))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// loadKeyPair loads certName and keyName from certsDir and checks that the
// certificate chains to roots and allows usage.
func loadKeyPair(certsDir, certName, keyName, hint string, roots *x509.CertPool, usage x509.ExtKeyUsage) (tls.Certificate, error) {
	certPath, keyPath := filepath.Join(certsDir, certName), filepath.Join(certsDir, keyName)
	certPEM, err := readFile(certPath, hint)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := readFile(keyPath, hint)
	if err != nil {
		return tls.Certificate{}, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%s and %s are not a valid certificate and key: %v; regenerate them with `%s --overwrite`",
			certPath, keyPath, err, hint)
	}
	opts := x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{usage}}
	if _, err := pair.Leaf.Verify(opts); err != nil {
		return tls.Certificate{}, fmt.Errorf("%s is not valid for the CA in %s: %v; regenerate it with `%s --overwrite`",
			certPath, CACertFile, err, hint)
	}
	return pair, nil
}

// readCerts parses every certificate in the PEM file at path.
func readCerts(path, hint string) ([]*x509.Certificate, error) {
	data, err := readFile(path, hint)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for b, rest := pem.Decode(data); b != nil; b, rest = pem.Decode(rest) {
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s holds an invalid certificate: %v; regenerate it with `%s --overwrite`", path, err, hint)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s holds no PEM certificate; regenerate it with `%s --overwrite`", path, hint)
	}
	return certs, nil
}

// readFile reads path; a missing file yields an error (matching
// fs.ErrNotExist) that says which command creates it.
func readFile(path, hint string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s not found in %s: run `%s` (%w)", filepath.Base(path), filepath.Dir(path), hint, fs.ErrNotExist)
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("cannot read %s: %w; check its owner and permissions", path, err)
	}
	return data, nil
}

// The commands that create each file, for error messages.
func hintCA(dir string) string { return "cairn cert create-ca --certs-dir " + dir }
func hintNode(dir string) string {
	return "cairn cert create-node --certs-dir " + dir + " HOST..."
}
func hintClient(dir, user string) string {
	return "cairn cert create-client --certs-dir " + dir + " " + user
}
