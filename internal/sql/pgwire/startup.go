package pgwire

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Request codes of the startup packets that are not a StartupMessage; a
// StartupMessage carries the protocol version (major<<16 | minor) instead.
const (
	cancelRequestCode = 80877102
	sslRequestCode    = 80877103
	gssEncRequestCode = 80877104
	// maxStartupPacketBytes is PostgreSQL's MAX_STARTUP_PACKET_LENGTH.
	maxStartupPacketBytes = 10000
	// The protocol minor versions served: 3.0 and 3.2 (3.2 only lengthens
	// the cancel key). 3.1 was never released; clients asking for it or
	// for a newer one are offered the newest.
	minorLatest = 2
)

var errStartupPacketLength = errors.New("invalid length of startup packet")

// DefaultParameterStatus is what pgwire reports in ParameterStatus at
// startup before Session.ParameterStatus overlays its own values.
func DefaultParameterStatus(serverVersion string, p StartupParams) map[string]string {
	return map[string]string{
		"server_version":                serverVersion,
		"server_encoding":               "UTF8",
		"client_encoding":               "UTF8",
		"DateStyle":                     "ISO, MDY",
		"IntervalStyle":                 "postgres",
		"integer_datetimes":             "on",
		"standard_conforming_strings":   "on",
		"TimeZone":                      "UTC",
		"application_name":              p.Params["application_name"],
		"is_superuser":                  "off",
		"session_authorization":         p.User,
		"default_transaction_read_only": "off",
		"in_hot_standby":                "off",
	}
}

// readStartupPacket reads one length-prefixed startup packet straight from
// the connection, without read-ahead: bytes behind an SSLRequest must reach
// the TLS handshake, not a buffer of plaintext.
func (c *conn) readStartupPacket() ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(c.io, hdr[:]); err != nil {
		return nil, err
	}
	n := int(int32(binary.BigEndian.Uint32(hdr[:]))) - 4
	if n < 4 || n > maxStartupPacketBytes {
		return nil, errStartupPacketLength
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(c.io, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// startup negotiates encryption, handles a CancelRequest, and turns a
// StartupMessage into a session. It reports whether the message loop
// should run.
func (c *conn) startup() bool {
	var sslAsked, gssAsked bool
	for {
		pkt, err := c.readStartupPacket()
		if err != nil {
			if errors.Is(err, errStartupPacketLength) {
				// As PostgreSQL: no reply, this may not be a PostgreSQL client.
				metricProtocolErrors.Inc()
			}
			c.log.Debug("pgwire: startup failed", "err", err)
			return false
		}
		code := binary.BigEndian.Uint32(pkt)
		switch {
		case code == sslRequestCode:
			if sslAsked || len(pkt) != 4 {
				c.sendFatal(protocolViolation("invalid SSL negotiation"))
				return false
			}
			sslAsked = true
			if c.srv.cfg.TLS == nil {
				if !c.writeByte('N') {
					return false
				}
				continue
			}
			if !c.writeByte('S') {
				return false
			}
			tc := tls.Server(c.raw, c.srv.cfg.TLS)
			if err := tc.HandshakeContext(c.ctx); err != nil {
				c.log.Debug("pgwire: TLS handshake failed", "err", err)
				return false
			}
			st := tc.ConnectionState()
			c.tlsState = &st
			c.setIO(tc)
		case code == gssEncRequestCode:
			if gssAsked || len(pkt) != 4 {
				c.sendFatal(protocolViolation("invalid GSS encryption negotiation"))
				return false
			}
			gssAsked = true
			if !c.writeByte('N') {
				return false
			}
		case code == cancelRequestCode:
			// Process id, then a secret key of 4 (protocol 3.0) to 256 bytes.
			if len(pkt) < 12 || len(pkt) > 4+4+256 {
				metricProtocolErrors.Inc()
				return false
			}
			c.srv.cancelSession(binary.BigEndian.Uint32(pkt[4:8]), pkt[8:])
			return false
		case code>>16 == 3:
			return c.startSession(code&0xffff, pkt[4:])
		default:
			c.sendFatal(&Error{Severity: SeverityFatal, Code: CodeFeatureNotSupported,
				Message: fmt.Sprintf("unsupported frontend protocol %d.%d: server supports 3.0 to 3.%d",
					code>>16, code&0xffff, minorLatest)})
			return false
		}
	}
}

func (c *conn) writeByte(b byte) bool {
	if _, err := c.io.Write([]byte{b}); err != nil {
		c.broken = err
		return false
	}
	return true
}

// parseStartupParams decodes a StartupMessage's body after the version:
// name/value pairs of NUL-terminated strings, closed by an empty name.
func parseStartupParams(b []byte) (map[string]string, error) {
	params := make(map[string]string)
	for {
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return nil, errors.New("missing terminator")
		}
		name := string(b[:i])
		b = b[i+1:]
		if name == "" {
			if len(b) != 0 {
				return nil, errors.New("data after terminator")
			}
			return params, nil
		}
		i = bytes.IndexByte(b, 0)
		if i < 0 {
			return nil, fmt.Errorf("missing value for %q", name)
		}
		params[name] = string(b[:i])
		b = b[i+1:]
	}
}

// startSession handles a StartupMessage of protocol 3.minor: it checks the
// parameters, authenticates, makes the session and tells the client it is
// ready.
func (c *conn) startSession(minor uint32, body []byte) bool {
	raw, err := parseStartupParams(body)
	if err != nil {
		metricProtocolErrors.Inc()
		c.sendFatal(protocolViolation("invalid startup packet layout: %v", err))
		return false
	}
	// Protocol extensions ("_pq_.name"): none is supported; decline them.
	var declined []string
	params := StartupParams{Params: make(map[string]string, len(raw)), RemoteAddr: c.raw.RemoteAddr(), TLS: c.tlsState}
	for k, v := range raw {
		if strings.HasPrefix(k, "_pq_.") {
			declined = append(declined, k)
			continue
		}
		params.Params[k] = v
	}
	slices.Sort(declined)
	served := uint32(0)
	if minor >= minorLatest {
		served = minorLatest
	}
	if served != minor || len(declined) > 0 {
		if c.send(&pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: served, UnrecognizedOptions: declined}) != nil {
			return false
		}
	}

	if c.srv.cfg.RequireTLS && c.tlsState == nil {
		c.sendFatal(&Error{Severity: SeverityFatal, Code: CodeInvalidAuthorizationSpec,
			Message: "the server requires TLS (connect with sslmode=require or stronger)"})
		return false
	}
	params.User = params.Params["user"]
	if params.User == "" {
		c.sendFatal(&Error{Severity: SeverityFatal, Code: CodeInvalidAuthorizationSpec,
			Message: "no PostgreSQL user name specified in startup packet"})
		return false
	}
	params.Database = params.Params["database"]
	if params.Database == "" {
		params.Database = params.User
	}
	switch strings.ToLower(params.Params["replication"]) {
	case "", "false", "off", "no", "0":
	default:
		c.sendFatal(&Error{Severity: SeverityFatal, Code: CodeFeatureNotSupported,
			Message: "replication connections are not supported"})
		return false
	}

	if a := c.srv.cfg.Authenticator; a != nil {
		if err := a.Authenticate(c.ctx, params, &AuthExchange{c: c}); err != nil {
			if c.broken == nil && c.io.readErr == nil {
				e := toError(err)
				var asError *Error
				if !errors.As(err, &asError) {
					e = &Error{Code: CodeInvalidAuthorizationSpec, Message: err.Error()}
				}
				c.sendFatal(e)
			}
			return false
		}
	}

	secretLen := 4
	if served >= 2 {
		secretLen = 32
	}
	if err := c.srv.registerSession(c, secretLen); err != nil {
		c.sendFatal(toError(err))
		return false
	}
	sess, err := c.srv.factory.NewSession(c.ctx, params)
	if err != nil {
		c.sendFatal(toError(err))
		return false
	}
	c.cancelMu.Lock()
	c.session = sess
	c.cancelMu.Unlock()
	metricSessionsTotal.Inc()

	status := DefaultParameterStatus(c.srv.cfg.ServerVersion, params)
	maps.Copy(status, sess.ParameterStatus())
	_ = c.send(&pgproto3.AuthenticationOk{})
	for _, name := range slices.Sorted(maps.Keys(status)) {
		_ = c.send(&pgproto3.ParameterStatus{Name: name, Value: status[name]})
	}
	_ = c.send(&pgproto3.BackendKeyData{ProcessID: c.key.pid, SecretKey: c.key.secret})
	c.readyForQuery()
	return c.broken == nil
}

// readyForQuery ends a query cycle: ReadyForQuery with the transaction
// state, and a flush.
func (c *conn) readyForQuery() {
	if c.dead {
		return
	}
	if c.send(&pgproto3.ReadyForQuery{TxStatus: byte(c.session.TxnStatus())}) == nil {
		_ = c.flush()
	}
}
