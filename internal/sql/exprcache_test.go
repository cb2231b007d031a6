package sql

import (
	"testing"

	"google.golang.org/protobuf/proto"
)

// TestParseExprTextCached: a stored expression parses once; callers get
// copies (a rewrite of one does not change the next), and the cache is
// bounded.
func TestParseExprTextCached(t *testing.T) {
	c := storedExprs
	saved := c.max
	t.Cleanup(func() { c.mu.Lock(); c.max, c.m = saved, nil; c.mu.Unlock() })
	c.mu.Lock()
	c.max, c.m = 2, nil
	c.mu.Unlock()
	a, err := parseExprText("now() + interval '1 day'")
	if err != nil {
		t.Fatal(err)
	}
	b, err := parseExprText("now() + interval '1 day'")
	if err != nil {
		t.Fatal(err)
	}
	if a == b || !proto.Equal(a, b) {
		t.Fatalf("second parse: same tree %v, equal %v; want an equal copy", a == b, proto.Equal(a, b))
	}
	b.GetAExpr().Name = nil // a caller rewriting its copy
	if d, _ := parseExprText("now() + interval '1 day'"); !proto.Equal(a, d) {
		t.Fatal("a caller's change reached the cache")
	}
	for _, x := range []string{"1", "2", "3"} {
		if _, err := parseExprText(x); err != nil {
			t.Fatal(err)
		}
	}
	c.mu.Lock()
	n := len(c.m)
	c.mu.Unlock()
	if n > 2 {
		t.Fatalf("cache holds %d entries, bound 2", n)
	}
	if _, err := parseExprText("1 +"); err == nil {
		t.Fatal("a syntax error parsed")
	}
}
