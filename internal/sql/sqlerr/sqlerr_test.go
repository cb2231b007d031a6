package sqlerr

import (
	"context"
	"fmt"
	"testing"
)

func TestCodeOf(t *testing.T) {
	e := Newf(CodeUniqueViolation, "duplicate key value violates unique constraint %q", "t_pkey")
	wrapped := fmt.Errorf("insert: %w", e)
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{e, "23505"},
		{wrapped, "23505"},
		{context.Canceled, CodeInternalError},
	} {
		if got := CodeOf(tc.err); got != tc.want {
			t.Errorf("CodeOf(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
	if !HasCode(wrapped, CodeUniqueViolation) || HasCode(nil, "") {
		t.Error("HasCode")
	}
	if got, want := e.Error(), `duplicate key value violates unique constraint "t_pkey" (SQLSTATE 23505)`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	d := e.WithDetail("Key (id)=(%d) already exists.", 1).WithHint("h")
	if d.Detail != "Key (id)=(1) already exists." || d.Hint != "h" || e.Detail != "" {
		t.Errorf("WithDetail/WithHint: %+v, original %+v", d, e)
	}
	if e.SQLState() != "23505" {
		t.Error("SQLState")
	}
}
