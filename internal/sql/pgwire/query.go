package pgwire

import (
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
)

// loop reads and handles messages until the client leaves, a FATAL error,
// or the server closes.
func (c *conn) loop() {
	for !c.dead {
		if c.fatalPending != nil {
			c.sendFatal(c.fatalPending)
			return
		}
		if c.broken != nil {
			return
		}
		msg, err := c.be.Receive()
		if err != nil {
			err = c.receiveError(err)
			if e, ok := err.(*Error); ok {
				c.log.Info("pgwire: protocol violation", "err", e.Message)
				c.sendFatal(e)
			} else if c.srv.ctx.Err() != nil {
				c.sayFarewell()
			} else {
				c.log.Debug("pgwire: connection closed", "err", err)
			}
			return
		}
		c.handle(msg)
	}
}

// handle handles one message of the main loop.
func (c *conn) handle(msg pgproto3.FrontendMessage) {
	switch msg.(type) {
	case *pgproto3.Sync:
		c.ignoreTillSync = false
		if err := c.session.Sync(c.ctx); err != nil {
			c.sendError(err)
		}
		c.readyForQuery()
		return
	case *pgproto3.Terminate:
		c.dead = true
		return
	case *pgproto3.CopyData, *pgproto3.CopyDone, *pgproto3.CopyFail:
		// The rest of a COPY that failed: dropped silently, as PostgreSQL
		// does.
		return
	}
	if c.ignoreTillSync {
		return
	}
	switch m := msg.(type) {
	case *pgproto3.Query:
		c.simpleQuery(m.String)
	case *pgproto3.Parse:
		c.extended(c.parse(m))
	case *pgproto3.Bind:
		c.extended(c.bind(m))
	case *pgproto3.Describe:
		c.extended(c.describe(m))
	case *pgproto3.Execute:
		c.extended(c.execute(m))
	case *pgproto3.Close:
		c.extended(c.close(m))
	case *pgproto3.Flush:
		_ = c.flush()
	case *pgproto3.FunctionCall:
		// The fast-path interface is obsolete; a simple-query-like cycle.
		c.sendError(&Error{Code: CodeFeatureNotSupported, Message: "function call messages are not supported"})
		c.readyForQuery()
	default:
		metricProtocolErrors.Inc()
		c.sendFatal(protocolViolation("unexpected message %T", msg))
	}
}

// simpleQuery handles Query: the session runs its statements, then
// ReadyForQuery.
func (c *conn) simpleQuery(query string) {
	c.sink.reset(false)
	var err error
	if strings.Trim(query, " \t\n\r\f\v") == "" {
		err = c.sink.EmptyQuery()
	} else {
		err = c.session.ExecuteSimple(c.ctx, query, &c.sink)
	}
	if err == nil {
		err = c.sink.endCopy()
	}
	if err != nil || c.fatalPending != nil {
		c.sendError(err)
	}
	if !c.dead {
		c.readyForQuery()
	}
}

// extended finishes an extended-protocol message: after an error, discard
// the rest up to Sync.
func (c *conn) extended(err error) {
	if err == nil && c.fatalPending == nil {
		return
	}
	c.sendError(err)
	c.ignoreTillSync = true
}

func (c *conn) parse(m *pgproto3.Parse) error {
	if err := c.session.Prepare(c.ctx, m.Name, m.Query, m.ParameterOIDs); err != nil {
		return err
	}
	return c.send(&pgproto3.ParseComplete{})
}

func checkFormats(what string, formats []int16) error {
	for _, f := range formats {
		if f != FormatText && f != FormatBinary {
			return &Error{Code: CodeInvalidParameterValue, Message: fmt.Sprintf("unsupported %s format code: %d", what, f)}
		}
	}
	return nil
}

func (c *conn) bind(m *pgproto3.Bind) error {
	n := len(m.Parameters)
	if err := checkFormats("parameter", m.ParameterFormatCodes); err != nil {
		return err
	}
	if err := checkFormats("result", m.ResultFormatCodes); err != nil {
		return err
	}
	formats := make([]int16, n)
	switch len(m.ParameterFormatCodes) {
	case 0:
	case 1:
		for i := range formats {
			formats[i] = m.ParameterFormatCodes[0]
		}
	case n:
		copy(formats, m.ParameterFormatCodes)
	default:
		return &Error{Code: CodeProtocolViolation, Message: fmt.Sprintf(
			"bind message has %d parameter formats but %d parameters", len(m.ParameterFormatCodes), n)}
	}
	// The values point into the read buffer, which the next Receive
	// reuses: copy them into one allocation the session may keep.
	total := 0
	for _, p := range m.Parameters {
		total += len(p)
	}
	buf := make([]byte, 0, total)
	params := make([][]byte, n)
	for i, p := range m.Parameters {
		if p != nil {
			start := len(buf)
			buf = append(buf, p...)
			params[i] = buf[start:len(buf):len(buf)]
		}
	}
	req := BindRequest{
		Portal:        m.DestinationPortal,
		Statement:     m.PreparedStatement,
		ParamFormats:  formats,
		Params:        params,
		ResultFormats: m.ResultFormatCodes,
	}
	if err := c.session.Bind(c.ctx, req); err != nil {
		return err
	}
	return c.send(&pgproto3.BindComplete{})
}

func (c *conn) describe(m *pgproto3.Describe) error {
	var cols []Column
	switch m.ObjectType {
	case 'S':
		d, err := c.session.DescribeStatement(c.ctx, m.Name)
		if err != nil {
			return err
		}
		oids := d.ParamOIDs
		if oids == nil {
			oids = []uint32{}
		}
		if err := c.send(&pgproto3.ParameterDescription{ParameterOIDs: oids}); err != nil {
			return err
		}
		cols = d.Columns
	case 'P':
		var err error
		if cols, err = c.session.DescribePortal(c.ctx, m.Name); err != nil {
			return err
		}
	default:
		return &Error{Code: CodeProtocolViolation, Message: fmt.Sprintf("invalid DESCRIBE message subtype %d", m.ObjectType)}
	}
	if cols == nil {
		return c.send(&pgproto3.NoData{})
	}
	return c.send(rowDescription(cols))
}

func (c *conn) execute(m *pgproto3.Execute) error {
	c.sink.reset(true)
	suspended, err := c.session.Execute(c.ctx, m.Portal, int(m.MaxRows), &c.sink)
	if err != nil {
		return err
	}
	if err := c.sink.endCopy(); err != nil {
		return err
	}
	if suspended {
		return c.send(&pgproto3.PortalSuspended{})
	}
	if !c.sink.completed {
		c.log.Error("pgwire: bug: Session.Execute returned neither suspended nor completed", "portal", m.Portal)
		return &Error{Code: CodeInternalError, Message: fmt.Sprintf("portal %q was neither completed nor suspended", m.Portal)}
	}
	return nil
}

func (c *conn) close(m *pgproto3.Close) error {
	var err error
	switch m.ObjectType {
	case 'S':
		err = c.session.CloseStatement(c.ctx, m.Name)
	case 'P':
		err = c.session.ClosePortal(c.ctx, m.Name)
	default:
		return &Error{Code: CodeProtocolViolation, Message: fmt.Sprintf("invalid CLOSE message subtype %d", m.ObjectType)}
	}
	if err != nil {
		return err
	}
	return c.send(&pgproto3.CloseComplete{})
}

func rowDescription(cols []Column) *pgproto3.RowDescription {
	fields := make([]pgproto3.FieldDescription, len(cols))
	for i, col := range cols {
		fields[i] = pgproto3.FieldDescription{
			Name:                 []byte(col.Name),
			TableOID:             col.TableOID,
			TableAttributeNumber: col.TableAttributeNumber,
			DataTypeOID:          col.TypeOID,
			DataTypeSize:         col.TypeSize,
			TypeModifier:         col.TypeModifier,
			Format:               col.Format,
		}
	}
	return &pgproto3.RowDescription{Fields: fields}
}
