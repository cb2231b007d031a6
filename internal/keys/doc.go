// Package keys defines Cairn's logical keyspace: the prefixes that split it
// into the meta range, the system span, the KV API namespace and table data,
// and the well-known keys inside the meta range.
//
//	""      .. "\x02"         (unused, below everything)
//	"\x02"  .. "\x03"         meta: range directory, id counters, TSO, nodes
//	"\x03"  .. "k"            system: catalog, users (later issues)
//	"k"     .. "l"            KV API: "k" + user key
//	"t"     .. "u"            SQL tables and indexes: "t" + table id + ...
//	"\xff\xff"                KeyMax, the end of the keyspace
//
// Range 1 (the meta range) is [KeyMin, SystemPrefix) and never splits; user
// keys start in range 2, [SystemPrefix, KeyMax). Logical keys never start
// with 0x00 or 0x01; storage/ adds its own engine-level prefixes and MVCC
// suffixes below this layer.
package keys
