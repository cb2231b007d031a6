// Package encoding implements Cairn's order-preserving key encodings: byte
// formats in which bytes.Compare of two encodings equals the order of the
// values they encode. The KV layer and the storage engine only ever compare
// keys as raw bytes, so every typed key component goes through this package.
//
// # Callers
//
//   - storage/ builds MVCC keys from a user key in the Bytes format followed
//     by fixed-width or varint timestamp components (a Descending timestamp
//     makes newer versions of a key sort first).
//   - SQL builds primary and secondary index keys with EncodeTuple (one
//     direction per index column) under the "t" table prefix from keys/, and
//     scans prefixes with [PrefixEnd].
//
// # Invariants
//
//   - Order: for values a, b of one type, bytes.Compare(Enc(a), Enc(b)) equals
//     compare(a, b); for Descending encodings it equals compare(b, a).
//   - Prefix-free: no encoding is a proper prefix of another, so encodings
//     can be concatenated and decoded without length headers, and a
//     concatenation (a tuple) sorts column by column.
//   - Descending is the bitwise NOT of ascending, byte for byte, for every
//     encoding here (including the datum marker bytes).
//   - Canonical: each value has exactly one encoding, and decoders reject
//     every other byte string (non-minimal varints, stray NaN patterns,
//     negative zero, bad escapes) with an error wrapping [ErrCorrupt].
//     Decoders never panic, whatever the input.
//
// # Untagged formats
//
// These carry no type marker; the caller knows what it wrote.
//
//	Bytes/String  data with each 0x00 written as 0x00 0xFF, then 0x00 0x01.
//	              ""        -> 00 01
//	              "a\x00b"  -> 61 00 FF 62 00 01
//	Uint64        8 bytes, big endian.
//	Int64         8 bytes, big endian, of uint64(v) with the sign bit flipped.
//	Float         8 bytes, big endian, of a uint64 key: for f < 0 all bits of
//	              float64bits(f) inverted; for f >= 0 the bits with the sign
//	              bit set. -0 is written as +0 and every NaN as 00 x8, which
//	              sorts before -Inf (00 0F FF FF FF FF FF FF).
//	Varint        1 to 9 bytes; the first (marker) byte gives sign and length:
//
//	  marker       meaning                                payload
//	  0x80..0x87   negative, 8..1 payload bytes            low n bytes of v, big endian
//	                 (0x88-n for n bytes, n minimal)       (i.e. v + 2^(8n))
//	  0x88..0xF5   0 .. 109, value = marker - 0x88          none
//	  0xF6..0xFD   >= 110, 1..8 payload bytes               v, big endian, minimal
//	                 (0xF5+n for n bytes)
//
// For example -1 -> 87 FF, -256 -> 87 00, -257 -> 86 FE FF, 0 -> 88,
// 109 -> F5, 110 -> F6 6E, 256 -> F7 01 00.
//
// # Tagged datums and tuples
//
// EncodeDatum writes a marker byte followed by a payload; EncodeTuple
// concatenates datums, each with its own [Direction]. Ascending markers:
//
//	marker       Go type   payload
//	0x00         nil       none (NULL sorts before every value)
//	0x10         bool      none (false)
//	0x11         bool      none (true)
//	0x12         []byte    Bytes format
//	0x13         string    Bytes format
//	0x20         float64   Float format
//	0x80..0xFD   int64     rest of the Varint; the varint marker is the tag
//
// A Descending datum is the bitwise NOT of the whole ascending datum, marker
// included, so NULL becomes 0xFF and sorts last, as PostgreSQL does for DESC.
// Values of different types order by marker; SQL never mixes types in one
// column, but the order is still total and well defined.
package encoding
