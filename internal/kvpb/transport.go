package kvpb

import (
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// NotSent reports whether a gRPC call's error means the request never left
// the caller (the connection could not be established) or was refused
// unrun (NotRunPrefix). gRPC fails such
// calls fast with the last connection error ("connection error: ... while
// dialing ..."); an established connection that breaks reports other
// messages, and a write sent on it stays ambiguous.
func NotSent(err error) bool {
	st := status.Convert(err)
	if st.Code() != codes.Unavailable {
		return false
	}
	msg := st.Message()
	return strings.Contains(msg, "while dialing") || strings.HasPrefix(msg, "connection error:") || strings.HasPrefix(msg, NotRunPrefix)
}

// NotRunPrefix starts the message of an Unavailable error whose request a
// server received but certainly did not run (a multiplexed call refused
// by a stopping or overloaded node, internal/rpcmux): like a request that
// never left, it may be sent again.
const NotRunPrefix = "not run: "
