package pgwire

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Defaults applied by NewServer to zero Config fields.
const (
	DefaultServerVersion   = "16.0 (Cairn)"
	DefaultMaxMessageBytes = 64 << 20
	DefaultStartupTimeout  = 30 * time.Second
)

// Config configures a Server. cmd/cairn maps flags onto it.
type Config struct {
	// TLS, if set, is offered to clients that send SSLRequest; nil answers
	// SSLRequest with 'N' (plaintext only).
	TLS *tls.Config
	// RequireTLS refuses (28000) a startup over plaintext. Needs TLS.
	RequireTLS bool
	// ServerVersion is reported as ParameterStatus server_version;
	// DefaultServerVersion if empty. Drivers parse its leading number.
	ServerVersion string
	// MaxMessageBytes bounds the body of one incoming message (Query, Bind,
	// CopyData, ...); a larger message gets a FATAL 08P01 and the
	// connection is closed before its body is read. DefaultMaxMessageBytes
	// if 0.
	MaxMessageBytes int
	// MaxConnections bounds the established sessions; a startup beyond it
	// gets FATAL 53300 too_many_connections. 0: no bound.
	MaxConnections int
	// StartupTimeout bounds the time from accept to the end of startup
	// (TLS handshake, StartupMessage, authentication), so that idle or slow
	// clients cannot hold connections that never become sessions.
	// DefaultStartupTimeout if 0.
	StartupTimeout time.Duration
	// Authenticator authenticates each connection before its session is
	// made; nil accepts every user without a password (insecure mode).
	Authenticator Authenticator
	// Logger receives connection-level events; slog.Default() if nil.
	Logger *slog.Logger
}

// DefaultConfig is a plaintext server without authentication, as an
// insecure node runs it.
func DefaultConfig() Config {
	return Config{
		ServerVersion:   DefaultServerVersion,
		MaxMessageBytes: DefaultMaxMessageBytes,
		StartupTimeout:  DefaultStartupTimeout,
	}
}

// Validate rejects unusable configurations.
func (c Config) Validate() error {
	if c.RequireTLS && c.TLS == nil {
		return errors.New("pgwire: RequireTLS needs a TLS config (certificates)")
	}
	if c.MaxMessageBytes < 0 {
		return fmt.Errorf("pgwire: MaxMessageBytes %d must not be negative", c.MaxMessageBytes)
	}
	if c.MaxConnections < 0 {
		return fmt.Errorf("pgwire: MaxConnections %d must not be negative", c.MaxConnections)
	}
	if c.StartupTimeout < 0 {
		return fmt.Errorf("pgwire: StartupTimeout %v must not be negative", c.StartupTimeout)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.ServerVersion == "" {
		c.ServerVersion = DefaultServerVersion
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if c.StartupTimeout == 0 {
		c.StartupTimeout = DefaultStartupTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Authenticator is the hook for authentication (password, SCRAM, client
// certificates), run after the StartupMessage and before NewSession.
type Authenticator interface {
	// Authenticate runs an authentication exchange with the client through
	// ex and returns nil to accept it; pgwire then sends AuthenticationOk.
	// An *Error refuses it as a FATAL error (e.g. 28P01 invalid_password,
	// 28000); any other error is reported as 28000 with its text. The
	// client's certificate, if any, is in params.TLS.
	Authenticate(ctx context.Context, params StartupParams, ex *AuthExchange) error
}

// AuthExchange carries an authentication exchange's messages during
// Authenticator.Authenticate.
type AuthExchange struct {
	c *conn
}

// Send sends an authentication request (AuthenticationCleartextPassword,
// AuthenticationSASL, ...) and flushes it. It also tells the message decoder
// which response type to expect (SetAuthType), as 'p' messages are told
// apart only by context.
func (ex *AuthExchange) Send(msg pgproto3.BackendMessage) error {
	var authType uint32
	switch msg.(type) {
	case *pgproto3.AuthenticationCleartextPassword:
		authType = pgproto3.AuthTypeCleartextPassword
	case *pgproto3.AuthenticationMD5Password:
		authType = pgproto3.AuthTypeMD5Password
	case *pgproto3.AuthenticationSASL:
		authType = pgproto3.AuthTypeSASL
	case *pgproto3.AuthenticationSASLContinue:
		authType = pgproto3.AuthTypeSASLContinue
	case *pgproto3.AuthenticationSASLFinal:
		authType = pgproto3.AuthTypeSASLFinal
	case *pgproto3.AuthenticationGSS:
		authType = pgproto3.AuthTypeGSS
	case *pgproto3.AuthenticationGSSContinue:
		authType = pgproto3.AuthTypeGSSCont
	}
	if authType != 0 {
		if err := ex.c.be.SetAuthType(authType); err != nil {
			return err
		}
	}
	if err := ex.c.send(msg); err != nil {
		return err
	}
	return ex.c.flush()
}

// Receive reads the client's next message; it is valid until the next
// Receive. A message that is not an authentication response is a protocol
// violation; the caller should fail with it.
func (ex *AuthExchange) Receive() (pgproto3.FrontendMessage, error) {
	msg, err := ex.c.be.Receive()
	if err != nil {
		return nil, ex.c.receiveError(err)
	}
	return msg, nil
}

// ReadCleartextPassword asks the client for its password in clear text
// (only sensible over TLS) and returns it.
func (ex *AuthExchange) ReadCleartextPassword() (string, error) {
	if err := ex.Send(&pgproto3.AuthenticationCleartextPassword{}); err != nil {
		return "", err
	}
	msg, err := ex.Receive()
	if err != nil {
		return "", err
	}
	pm, ok := msg.(*pgproto3.PasswordMessage)
	if !ok {
		return "", protocolViolation("expected password response, got %T", msg)
	}
	return pm.Password, nil
}
