package pgwire

import (
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5/pgproto3"
)

// resultWriter is the connection's ResultSink. Messages go into the
// connection's write buffer, which reaches the socket whenever it fills
// (writeBufferBytes), so a result streams out as the session produces it.
type resultWriter struct {
	c *conn
	// extended: serving Execute, where RowDescription came from Describe.
	extended bool
	// completed: Complete or EmptyQuery was called.
	completed bool
	// copyIn is the COPY FROM STDIN of the current statement, if any.
	copyIn *copyInReader
}

var _ ResultSink = (*resultWriter)(nil)

// reset readies the sink for a Query (extended=false) or an Execute.
func (w *resultWriter) reset(extended bool) {
	*w = resultWriter{c: w.c, extended: extended}
}

func (w *resultWriter) Columns(cols []Column) error {
	if w.extended {
		return nil
	}
	return w.c.send(rowDescription(cols))
}

func (w *resultWriter) Row(values [][]byte) error {
	return w.c.send(&pgproto3.DataRow{Values: values})
}

func (w *resultWriter) Complete(tag string) error {
	if err := w.endCopy(); err != nil {
		return err
	}
	w.completed = true
	return w.c.send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
}

func (w *resultWriter) EmptyQuery() error {
	w.completed = true
	return w.c.send(&pgproto3.EmptyQueryResponse{})
}

func (w *resultWriter) Notice(n *Error) error {
	return w.c.send(n.noticeResponse())
}

func (w *resultWriter) ParameterStatus(name, value string) error {
	return w.c.send(&pgproto3.ParameterStatus{Name: name, Value: value})
}

func (w *resultWriter) CopyIn(format int16, columnFormats []int16) (io.Reader, error) {
	if w.copyIn != nil && !w.copyIn.ended {
		return nil, &Error{Code: CodeInternalError, Message: "COPY FROM STDIN started twice"}
	}
	if err := checkFormats("COPY", append([]int16{format}, columnFormats...)); err != nil {
		return nil, err
	}
	codes := make([]uint16, len(columnFormats))
	for i, f := range columnFormats {
		codes[i] = uint16(f)
	}
	if err := w.c.send(&pgproto3.CopyInResponse{OverallFormat: byte(format), ColumnFormatCodes: codes}); err != nil {
		return nil, err
	}
	// The client sends nothing until it has seen CopyInResponse.
	if err := w.c.flush(); err != nil {
		return nil, err
	}
	w.copyIn = &copyInReader{c: w.c}
	return w.copyIn, nil
}

// endCopy consumes what remains of a COPY FROM STDIN that the session
// finished without reading to CopyDone, so that the client gets its
// CommandComplete after its copy messages. A CopyFail is returned.
func (w *resultWriter) endCopy() error {
	if w.copyIn == nil || w.copyIn.ended {
		return nil
	}
	if _, err := io.Copy(io.Discard, w.copyIn); err != nil {
		return err
	}
	return nil
}

// copyInReader reads the data of a COPY FROM STDIN from the client's
// CopyData messages, on the connection's goroutine.
type copyInReader struct {
	c *conn
	// data is the unread rest of the current CopyData; it points into the
	// read buffer, valid until the next Receive.
	data []byte
	// err ends the stream: io.EOF after CopyDone, an *Error after
	// CopyFail or an unexpected message, the connection's failure.
	err error
	// ended: the stream is over, nothing more of it will come.
	ended bool
}

func (r *copyInReader) Read(p []byte) (int, error) {
	for len(r.data) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		r.next()
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// next receives the next copy message.
func (r *copyInReader) next() {
	c := r.c
	msg, err := c.be.Receive()
	if err != nil {
		r.ended = true
		err = c.receiveError(err)
		var e *Error
		if errors.As(err, &e) {
			c.fatalPending = e
			r.err = e
		} else {
			c.broken = err
			r.err = err
		}
		return
	}
	switch m := msg.(type) {
	case *pgproto3.CopyData:
		r.data = m.Data
	case *pgproto3.CopyDone:
		r.ended = true
		r.err = io.EOF
	case *pgproto3.CopyFail:
		r.ended = true
		r.err = &Error{Code: CodeQueryCanceled, Message: "COPY from stdin failed: " + m.Message}
	case *pgproto3.Flush, *pgproto3.Sync:
		// Ignored in copy-in mode, as the protocol says.
	default:
		// Aborts the copy; the client's further copy messages are dropped
		// by the main loop.
		r.ended = true
		r.err = &Error{Code: CodeProtocolViolation, Message: fmt.Sprintf("unexpected message %T during COPY from stdin", msg)}
	}
}
