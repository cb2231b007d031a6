package security

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// File names inside the certs directory.
const (
	CACertFile   = "ca.crt"
	CAKeyFile    = "ca.key"
	NodeCertFile = "node.crt"
	NodeKeyFile  = "node.key"
)

// NodeUser is the CommonName of node certificates, and so the user PeerUser
// reports for a peer node. It cannot be used for client certificates.
const NodeUser = "node"

// ClientCertFile returns the certificate file name of user: client.<user>.crt.
func ClientCertFile(user string) string { return "client." + user + ".crt" }

// ClientKeyFile returns the key file name of user: client.<user>.key.
func ClientKeyFile(user string) string { return "client." + user + ".key" }

const (
	caYears   = 10
	leafYears = 5
	// backdate absorbs clock skew between the machine that signs a
	// certificate and the machines that check it.
	backdate = time.Hour
)

var userRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,63}$`)

// ValidateUser reports whether user can name a client certificate:
// 1 to 63 characters from [a-zA-Z0-9_.-].
func ValidateUser(user string) error {
	switch {
	case user == "":
		return errors.New("user name is empty")
	case len(user) > 63:
		return fmt.Errorf("user name %q is longer than 63 characters", user)
	case !userRE.MatchString(user):
		return fmt.Errorf("invalid user name %q: only letters, digits, '_', '.' and '-' are allowed", user)
	}
	return nil
}

// CreateCA creates a self-signed CA valid for 10 years: ca.crt in certsDir and
// its key at caKeyPath (certsDir/ca.key if empty). Existing files are an error
// unless overwrite is set; a new CA invalidates every certificate of the old one.
func CreateCA(certsDir, caKeyPath string, overwrite bool) error {
	caKeyPath = caKeyOrDefault(certsDir, caKeyPath)
	certPath := filepath.Join(certsDir, CACertFile)
	if err := checkAbsent(overwrite, certPath, caKeyPath); err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, err := newSerial()
	if err != nil {
		return err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"Cairn"}, CommonName: "Cairn CA"},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.AddDate(caYears, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("creating CA certificate: %w", err)
	}
	return writePair(certPath, der, caKeyPath, key, overwrite)
}

// CreateNodeCert creates node.crt and node.key in certsDir, signed by the CA
// (ca.crt in certsDir, key at caKeyPath or certsDir/ca.key). The certificate
// has CommonName "node", is valid for both server and client authentication,
// and lists hosts (IP addresses or DNS names, at least one) as SANs.
func CreateNodeCert(certsDir, caKeyPath string, hosts []string, overwrite bool) error {
	if len(hosts) == 0 {
		return errors.New("node certificate needs at least one host (IP address or DNS name)")
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{Organization: []string{"Cairn"}, CommonName: NodeUser},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		if ip := net.ParseIP(strings.Trim(h, "[]")); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h == "" || strings.ContainsAny(h, ":/ \t") {
			return fmt.Errorf("invalid host %q: want an IP address or DNS name, without port", h)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	return createLeaf(certsDir, caKeyPath, NodeCertFile, NodeKeyFile, tmpl, overwrite)
}

// CreateClientCert creates client.<user>.crt and client.<user>.key in
// certsDir, signed by the CA, with CommonName user and client authentication
// only. user must pass ValidateUser and must not be "node".
func CreateClientCert(certsDir, caKeyPath, user string, overwrite bool) error {
	if err := ValidateUser(user); err != nil {
		return err
	}
	if user == NodeUser {
		return fmt.Errorf("user name %q is reserved for node certificates: use `cairn cert create-node`", user)
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{Organization: []string{"Cairn"}, CommonName: user},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	return createLeaf(certsDir, caKeyPath, ClientCertFile(user), ClientKeyFile(user), tmpl, overwrite)
}

// createLeaf fills in the common fields of tmpl, signs it with the CA and
// writes certName and keyName into certsDir.
func createLeaf(certsDir, caKeyPath, certName, keyName string, tmpl *x509.Certificate, overwrite bool) error {
	certPath, keyPath := filepath.Join(certsDir, certName), filepath.Join(certsDir, keyName)
	if err := checkAbsent(overwrite, certPath, keyPath); err != nil {
		return err
	}
	ca, caKey, err := loadCA(certsDir, caKeyOrDefault(certsDir, caKeyPath))
	if err != nil {
		return err
	}
	now := time.Now()
	if !now.Before(ca.NotAfter) {
		return fmt.Errorf("%s expired on %s: create a new CA with `%s --overwrite`",
			filepath.Join(certsDir, CACertFile), ca.NotAfter.Format(time.DateOnly), hintCA(certsDir))
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	if tmpl.SerialNumber, err = newSerial(); err != nil {
		return err
	}
	tmpl.NotBefore = now.Add(-backdate)
	tmpl.NotAfter = now.AddDate(leafYears, 0, 0)
	if tmpl.NotAfter.After(ca.NotAfter) {
		tmpl.NotAfter = ca.NotAfter // a certificate cannot outlive its CA
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.BasicConstraintsValid = true
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("creating %s: %w", certName, err)
	}
	return writePair(certPath, der, keyPath, key, overwrite)
}

// loadCA returns the certificate in certsDir/ca.crt that matches the key at
// caKeyPath, and that key.
func loadCA(certsDir, caKeyPath string) (*x509.Certificate, crypto.Signer, error) {
	certs, err := readCerts(filepath.Join(certsDir, CACertFile), hintCA(certsDir))
	if err != nil {
		return nil, nil, err
	}
	data, err := readFile(caKeyPath, hintCA(certsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("CA key %s not found: pass its path with --ca-key, or replace the CA "+
			"(invalidating all its certificates) with `%s --overwrite` (%w)", caKeyPath, hintCA(certsDir), fs.ErrNotExist)
	} else if err != nil {
		return nil, nil, err
	}
	key, err := parseKey(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s is not a valid private key: %v", caKeyPath, err)
	}
	for _, c := range certs {
		if pub, ok := c.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); ok && c.IsCA && pub.Equal(key.Public()) {
			return c, key, nil
		}
	}
	return nil, nil, fmt.Errorf("CA key %s does not match %s: pass the matching key with --ca-key",
		caKeyPath, filepath.Join(certsDir, CACertFile))
}

// parseKey decodes the first PKCS#8 or SEC 1 (EC) private key in data.
func parseKey(data []byte) (crypto.Signer, error) {
	for {
		var b *pem.Block
		if b, data = pem.Decode(data); b == nil {
			return nil, errors.New("no PEM private key found")
		}
		var key any
		var err error
		switch b.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(b.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, err
		}
		if s, ok := key.(crypto.Signer); ok {
			return s, nil
		}
		return nil, fmt.Errorf("unsupported key type %T", key)
	}
}

func caKeyOrDefault(certsDir, caKeyPath string) string {
	if caKeyPath == "" {
		return filepath.Join(certsDir, CAKeyFile)
	}
	return caKeyPath
}

func newSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
}

// checkAbsent fails if any of paths exists and overwrite is not set, so that
// nothing is written when one file of a pair is already there.
func checkAbsent(overwrite bool, paths ...string) error {
	if overwrite {
		return nil
	}
	for _, p := range paths {
		if _, err := os.Lstat(p); err == nil {
			return existsError(p)
		}
	}
	return nil
}

func existsError(path string) error {
	return fmt.Errorf("%s already exists: pass --overwrite to replace it (%w)", path, fs.ErrExist)
}

// writePair writes the key (mode 0600) and then the certificate (0644),
// removing the key again if the certificate cannot be written.
func writePair(certPath string, certDER []byte, keyPath string, key *ecdsa.PrivateKey, overwrite bool) error {
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := writePEM(keyPath, "PRIVATE KEY", keyDER, 0o600, overwrite); err != nil {
		return err
	}
	if err := writePEM(certPath, "CERTIFICATE", certDER, 0o644, overwrite); err != nil {
		_ = os.Remove(keyPath)
		return err
	}
	return nil
}

// writePEM writes one PEM block to path with the given mode, creating the
// directory (0700) if needed. Without overwrite an existing file is an error.
func writePEM(path, typ string, der []byte, mode fs.FileMode, overwrite bool) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if overwrite {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, mode)
	if errors.Is(err, fs.ErrExist) {
		return existsError(path)
	} else if err != nil {
		return err
	}
	err = f.Chmod(mode) // an overwritten file keeps its old mode otherwise
	if err == nil {
		err = pem.Encode(f, &pem.Block{Type: typ, Bytes: der})
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
