package replica

import (
	"testing"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
)

func cas(k, expected, newValue string, expectAbsent bool) *kvpb.RequestUnion {
	return &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Cas{Cas: &kvpb.CompareAndSetRequest{
		Key: keys.KVKey([]byte(k)), ExpectedValue: []byte(expected), ExpectAbsent: expectAbsent, NewValue: []byte(newValue),
	}}}
}

// A batch is one command: later requests see earlier ones, and a failed
// comparison does not undo the others (it is a result, not an error).
func TestBatchReadsItsOwnWrites(t *testing.T) {
	n := startMemNode(t, nil)
	resps, err := n.send(t, keys.FirstUserRangeID,
		put("a", "1"),
		cas("a", "1", "2", false), // sees the put above
		cas("b", "", "x", true),   // b absent: succeeds
		cas("b", "nope", "y", false),
		get("a"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !resps[1].GetCas().Succeeded || !resps[2].GetCas().Succeeded {
		t.Fatalf("compare-and-set did not see earlier writes of its batch: %v", resps)
	}
	if c := resps[3].GetCas(); c.Succeeded || string(c.ActualValue) != "x" {
		t.Fatalf("mismatching compare-and-set: %v", c)
	}
	if g := resps[4].GetGet(); string(g.Value) != "2" {
		t.Fatalf("get in batch = %q, want 2", g.Value)
	}
	// Each write of the batch is visible afterwards.
	resps, err = n.send(t, keys.FirstUserRangeID, get("a"), get("b"))
	if err != nil {
		t.Fatal(err)
	}
	if string(resps[0].GetGet().Value) != "2" || string(resps[1].GetGet().Value) != "x" {
		t.Fatalf("after batch: %v", resps)
	}
}
