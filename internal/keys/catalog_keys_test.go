package keys

import (
	"bytes"
	"testing"
)

func TestCatalogKeys(t *testing.T) {
	// Descriptor keys sort by id.
	for _, p := range [][2]uint32{{1, 2}, {255, 256}, {100, 1 << 24}} {
		if bytes.Compare(DescriptorKey(p[0]), DescriptorKey(p[1])) >= 0 {
			t.Errorf("DescriptorKey(%d) >= DescriptorKey(%d)", p[0], p[1])
		}
	}
	// A parent's span holds exactly its names, whatever the schema and
	// name; "a"."bc" and "ab"."c" differ.
	start, end := NamespaceSpan(7)
	for _, k := range [][]byte{NamespaceKey(7, "", ""), NamespaceKey(7, "public", "t"), NamespaceKey(7, "\xff", "\xff\xff")} {
		if bytes.Compare(k, start) < 0 || bytes.Compare(k, end) >= 0 {
			t.Errorf("%q outside the span of parent 7", k)
		}
	}
	for _, k := range [][]byte{NamespaceKey(6, "z", "z"), NamespaceKey(8, "", "")} {
		if bytes.Compare(k, start) >= 0 && bytes.Compare(k, end) < 0 {
			t.Errorf("%q inside the span of parent 7", k)
		}
	}
	if bytes.Equal(NamespaceKey(1, "a", "bc"), NamespaceKey(1, "ab", "c")) {
		t.Error("schema and name run together")
	}
	// The catalog keys are system keys apart from one another and from
	// the transaction records.
	all := [][]byte{DescriptorKey(1), NamespaceKey(0, "", "x"), DescIDCounterKey(), CatalogVersionKey(), SequenceCounterKey(1), TxnRecordKey("k")}
	for i, a := range all {
		if !bytes.HasPrefix(a, SystemPrefix) {
			t.Errorf("%q is not a system key", a)
		}
		for j, b := range all {
			if i != j && bytes.HasPrefix(a, b) {
				t.Errorf("%q has prefix %q", a, b)
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("NamespaceKey accepted a NUL byte")
		}
	}()
	NamespaceKey(1, "public", "a\x00b")
}
