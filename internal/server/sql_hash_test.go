package server

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"

	"github.com/cairndb/cairn/internal/encoding"
	"github.com/cairndb/cairn/internal/sql/rowenc"
)

// TestSQLHashPartitionSpreadsKeys: PARTITION BY HASH stores sequential
// primary keys under different bucket prefixes, so that after splits at
// the bucket boundaries every range takes a share of sequential inserts,
// and queries read across all of them.
func TestSQLHashPartitionSpreadsKeys(t *testing.T) {
	s := startTestServer(t, testConfig())
	conn := connectSQL(t, s)
	ctx := testCtx(t)
	h := &sqlHelper{t: t, ctx: ctx, conn: conn}
	const buckets = 8
	h.exec(fmt.Sprintf(`CREATE TABLE seq (id INT PRIMARY KEY, v TEXT) PARTITION BY HASH (id) WITH (buckets = %d)`, buckets))
	h.exec(`CREATE TABLE plain (id INT PRIMARY KEY, v TEXT)`)
	h.exec(`INSERT INTO seq SELECT g, 'v' || g FROM generate_series(1, 200) g`)
	h.exec(`INSERT INTO plain SELECT g, 'v' || g FROM generate_series(1, 200) g`)
	tableID := func(name string) uint32 {
		id, err := strconv.ParseUint(h.one(`SELECT oid FROM pg_class WHERE relname = '`+name+`'`), 10, 32)
		if err != nil {
			t.Fatal(err)
		}
		return uint32(id)
	}
	seqID, plainID := tableID("seq"), tableID("plain")

	// bucketOf decodes the bucket of a primary index key of seq.
	prefix := rowenc.IndexPrefix(seqID, 1)
	bucketOf := func(key []byte) int64 {
		if !bytes.HasPrefix(key, prefix) {
			t.Fatalf("key %x outside the primary index of seq", key)
		}
		_, b, err := encoding.DecodeVarintAscending(key[len(prefix):])
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	scan := func(tid uint32) [][]byte {
		sp := rowenc.IndexSpan(tid, 1)
		resp, err := s.db.Scan(ctx, sp.Key, sp.EndKey, 10000)
		if err != nil {
			t.Fatal(err)
		}
		var out [][]byte
		for _, kv := range resp.Kvs {
			out = append(out, kv.Key)
		}
		return out
	}
	perBucket := map[int64]int{}
	for _, k := range scan(seqID) {
		perBucket[bucketOf(k)]++
	}
	if len(perBucket) != buckets {
		t.Fatalf("200 sequential ids landed in %d buckets, want all %d: %v", len(perBucket), buckets, perBucket)
	}
	for b, n := range perBucket {
		if b < 0 || b >= buckets || n < 200/buckets/3 {
			t.Errorf("bucket %d holds %d of 200 rows: %v", b, n, perBucket)
		}
	}
	for id := 1; id <= 8; id++ {
		if row := h.one(fmt.Sprintf(`SELECT id FROM seq WHERE id = %d`, id)); row != strconv.Itoa(id) {
			t.Fatalf("point lookup of %d: %s", id, row)
		}
	}
	// A plain table's keys are all under one prefix, in id order.
	if plainKeys := scan(plainID); !bytes.Equal(plainKeys[0][:len(rowenc.IndexPrefix(plainID, 1))], rowenc.IndexPrefix(plainID, 1)) {
		t.Fatalf("plain table keys: %x", plainKeys[0])
	}

	// Split the table at every bucket boundary: one range per bucket.
	var rangeIDs []uint64
	for b := 1; b < buckets; b++ {
		left, right, err := s.db.AdminSplit(ctx, encoding.EncodeVarintAscending(append([]byte(nil), prefix...), int64(b)))
		if err != nil {
			t.Fatalf("split at bucket %d: %v", b, err)
		}
		if b == 1 {
			rangeIDs = append(rangeIDs, left.RangeId)
		}
		rangeIDs = append(rangeIDs, right.RangeId)
	}
	// 64 more sequential inserts, each its own transaction, spread over
	// all the ranges.
	for id := 1001; id <= 1064; id++ {
		h.exec(fmt.Sprintf(`INSERT INTO seq VALUES (%d, 'x')`, id))
	}
	newPerBucket := map[int64]int{}
	for _, k := range scan(seqID) {
		newPerBucket[bucketOf(k)]++
	}
	hit := 0
	for b := int64(0); b < buckets; b++ {
		if newPerBucket[b] > perBucket[b] {
			hit++
		}
	}
	if hit < buckets-1 {
		t.Fatalf("64 sequential inserts reached %d of %d ranges: before %v, after %v", hit, buckets, perBucket, newPerBucket)
	}
	t.Logf("ranges %v; rows per bucket before %v, after %v", rangeIDs, perBucket, newPerBucket)

	// Queries read across the ranges.
	if got := h.one(`SELECT count(*), sum(id) FROM seq`); got != fmt.Sprint(264, "|", 200*201/2+(1001+1064)*64/2) {
		t.Errorf("count, sum = %s", got)
	}
	if got := h.rows(`SELECT id FROM seq WHERE id > 195 AND id < 1003 ORDER BY id`); fmt.Sprint(got) != "[196 197 198 199 200 1001 1002]" {
		t.Errorf("range scan across buckets: %v", got)
	}
	if got := h.rows(`SELECT id FROM seq ORDER BY id DESC LIMIT 3`); fmt.Sprint(got) != "[1064 1063 1062]" {
		t.Errorf("ORDER BY DESC LIMIT: %v", got)
	}
	if got := h.one(`SELECT v FROM seq WHERE id = 1033`); got != "x" {
		t.Errorf("point lookup after the splits: %s", got)
	}
	if got := h.exec(`DELETE FROM seq WHERE id >= 1001`); got != "DELETE 64" {
		t.Errorf("DELETE: %s", got)
	}
}
