package encoding

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// ErrCorrupt is wrapped by every decoding error caused by the input bytes
// (truncation, bad escapes, unknown markers, non-canonical forms). Test for
// it with errors.Is.
var ErrCorrupt = errors.New("encoding: corrupt key")

// ErrUnsupportedType is wrapped by the error EncodeDatum and EncodeTuple
// return for a value whose Go type is not a Datum type.
var ErrUnsupportedType = errors.New("encoding: unsupported datum type")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// Escaping of byte strings; see doc.go.
const (
	escape      byte = 0x00 // introduces a two-byte sequence
	escaped00   byte = 0xFF // escape, escaped00 stands for a 0x00 data byte
	escapedTerm byte = 0x01 // escape, escapedTerm ends the string
)

// inv is the mask XORed into every byte: 0x00 for ascending encodings and
// 0xFF for descending ones, which are the bitwise NOT of the ascending form.
const (
	ascMask  byte = 0x00
	descMask byte = 0xFF
)

// invert flips every bit of b in place.
func invert(b []byte) {
	for i := range b {
		b[i] = ^b[i]
	}
}

// --- Bytes and strings ---

// EncodeBytesAscending appends the escaped, terminated encoding of data to b:
// each 0x00 becomes 0x00 0xFF and the string ends with 0x00 0x01.
func EncodeBytesAscending(b []byte, data []byte) []byte {
	for {
		i := bytes.IndexByte(data, escape)
		if i < 0 {
			break
		}
		b = append(b, data[:i]...)
		b = append(b, escape, escaped00)
		data = data[i+1:]
	}
	b = append(b, data...)
	return append(b, escape, escapedTerm)
}

// EncodeBytesDescending appends the bitwise NOT of EncodeBytesAscending(data).
func EncodeBytesDescending(b []byte, data []byte) []byte {
	n := len(b)
	b = EncodeBytesAscending(b, data)
	invert(b[n:])
	return b
}

// EncodeStringAscending is EncodeBytesAscending for a string.
func EncodeStringAscending(b []byte, s string) []byte {
	return encodeString(b, s, ascMask)
}

// EncodeStringDescending is EncodeBytesDescending for a string.
func EncodeStringDescending(b []byte, s string) []byte {
	return encodeString(b, s, descMask)
}

func encodeString(b []byte, s string, mask byte) []byte {
	n := len(b)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == escape {
			b = append(b, escape, escaped00)
		} else {
			b = append(b, c)
		}
	}
	b = append(b, escape, escapedTerm)
	if mask == descMask {
		invert(b[n:])
	}
	return b
}

// DecodeBytesAscending decodes a value written by EncodeBytesAscending from
// the front of b. The returned data is a fresh (non-nil) slice.
func DecodeBytesAscending(b []byte) (rest []byte, data []byte, err error) {
	return decodeBytes(b, ascMask)
}

// DecodeBytesDescending decodes a value written by EncodeBytesDescending.
func DecodeBytesDescending(b []byte) (rest []byte, data []byte, err error) {
	return decodeBytes(b, descMask)
}

// DecodeStringAscending decodes a value written by EncodeStringAscending.
func DecodeStringAscending(b []byte) (rest []byte, s string, err error) {
	rest, data, err := decodeBytes(b, ascMask)
	return rest, string(data), err
}

// DecodeStringDescending decodes a value written by EncodeStringDescending.
func DecodeStringDescending(b []byte) (rest []byte, s string, err error) {
	rest, data, err := decodeBytes(b, descMask)
	return rest, string(data), err
}

// BytesAscendingLen returns how many bytes of b the value written by
// EncodeBytesAscending at its start takes, terminator included, without
// decoding it.
func BytesAscendingLen(b []byte) (int, error) {
	for n := 0; ; {
		i := bytes.IndexByte(b[n:], escape)
		if i < 0 || n+i+1 >= len(b) {
			return 0, corrupt("unterminated byte string")
		}
		n += i + 2
		switch b[n-1] {
		case escaped00:
		case escapedTerm:
			return n, nil
		default:
			return 0, corrupt("invalid escape 0x00 0x%02x in byte string", b[n-1])
		}
	}
}

// decodeBytes decodes a byte string into a new slice (never aliasing b).
func decodeBytes(b []byte, mask byte) ([]byte, []byte, error) {
	data := []byte{}
	for {
		i := bytes.IndexByte(b, escape^mask)
		if i < 0 || i+1 >= len(b) {
			return nil, nil, corrupt("unterminated byte string")
		}
		start := len(data)
		data = append(data, b[:i]...)
		if mask != ascMask {
			invert(data[start:])
		}
		switch b[i+1] ^ mask {
		case escaped00:
			data = append(data, 0x00)
			b = b[i+2:]
		case escapedTerm:
			return b[i+2:], data, nil
		default:
			return nil, nil, corrupt("invalid escape 0x00 0x%02x in byte string", b[i+1]^mask)
		}
	}
}

// --- Fixed-width integers ---

// EncodeUint64Ascending appends v as 8 big-endian bytes.
func EncodeUint64Ascending(b []byte, v uint64) []byte {
	return binary.BigEndian.AppendUint64(b, v)
}

// EncodeUint64Descending appends ^v as 8 big-endian bytes.
func EncodeUint64Descending(b []byte, v uint64) []byte {
	return binary.BigEndian.AppendUint64(b, ^v)
}

// DecodeUint64Ascending decodes a value written by EncodeUint64Ascending.
func DecodeUint64Ascending(b []byte) (rest []byte, v uint64, err error) {
	return decodeUint64(b, ascMask)
}

// DecodeUint64Descending decodes a value written by EncodeUint64Descending.
func DecodeUint64Descending(b []byte) (rest []byte, v uint64, err error) {
	return decodeUint64(b, descMask)
}

func decodeUint64(b []byte, mask byte) ([]byte, uint64, error) {
	if len(b) < 8 {
		return nil, 0, corrupt("need 8 bytes for fixed-width integer, have %d", len(b))
	}
	v := binary.BigEndian.Uint64(b)
	if mask != ascMask {
		v = ^v
	}
	return b[8:], v, nil
}

const signBit = 1 << 63

// EncodeInt64Ascending appends v as 8 big-endian bytes with the sign bit
// flipped, so that negative values sort before positive ones.
func EncodeInt64Ascending(b []byte, v int64) []byte {
	return EncodeUint64Ascending(b, uint64(v)^signBit)
}

// EncodeInt64Descending appends the bitwise NOT of EncodeInt64Ascending(v).
func EncodeInt64Descending(b []byte, v int64) []byte {
	return EncodeUint64Descending(b, uint64(v)^signBit)
}

// DecodeInt64Ascending decodes a value written by EncodeInt64Ascending.
func DecodeInt64Ascending(b []byte) (rest []byte, v int64, err error) {
	rest, u, err := decodeUint64(b, ascMask)
	if err != nil {
		return nil, 0, err
	}
	return rest, int64(u ^ signBit), nil
}

// DecodeInt64Descending decodes a value written by EncodeInt64Descending.
func DecodeInt64Descending(b []byte) (rest []byte, v int64, err error) {
	rest, u, err := decodeUint64(b, descMask)
	if err != nil {
		return nil, 0, err
	}
	return rest, int64(u ^ signBit), nil
}

// --- Variable-length integers ---

// Varint marker bytes (ascending); see doc.go.
const (
	varintMin      = 0x80 // negative, 8 payload bytes; 0x80+8-n for n bytes
	varintZero     = 0x88 // 0..varintSmall are the single byte varintZero+v
	varintSmall    = 109  // largest value stored in the marker byte (0xF5)
	varintPosFirst = 0xF5 // positive with n payload bytes: varintPosFirst+n
	varintMax      = 0xFD // positive, 8 payload bytes
)

// byteLen is the number of bytes needed to hold u (0 for u == 0).
func byteLen(u uint64) int { return (bits.Len64(u) + 7) / 8 }

// appendBE appends the low n bytes of u, big endian.
func appendBE(b []byte, u uint64, n int) []byte {
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(u>>(8*i)))
	}
	return b
}

// EncodeVarintAscending appends an order-preserving variable-length encoding
// of v: 1 byte for 0..109, otherwise a marker byte giving sign and length
// followed by 1-8 big-endian payload bytes.
func EncodeVarintAscending(b []byte, v int64) []byte {
	switch {
	case v < 0:
		// v is in [-2^(8n), -1]; its low n bytes, read unsigned, are v+2^(8n).
		n := max(1, byteLen(^uint64(v)))
		return appendBE(append(b, byte(varintZero-n)), uint64(v), n)
	case v <= varintSmall:
		return append(b, byte(varintZero+v))
	default:
		n := byteLen(uint64(v))
		return appendBE(append(b, byte(varintPosFirst+n)), uint64(v), n)
	}
}

// EncodeVarintDescending appends the bitwise NOT of EncodeVarintAscending(v).
func EncodeVarintDescending(b []byte, v int64) []byte {
	n := len(b)
	b = EncodeVarintAscending(b, v)
	invert(b[n:])
	return b
}

// DecodeVarintAscending decodes a value written by EncodeVarintAscending.
// Non-minimal encodings are rejected as corrupt.
func DecodeVarintAscending(b []byte) (rest []byte, v int64, err error) {
	return decodeVarint(b, ascMask)
}

// DecodeVarintDescending decodes a value written by EncodeVarintDescending.
func DecodeVarintDescending(b []byte) (rest []byte, v int64, err error) {
	return decodeVarint(b, descMask)
}

// varintLen returns the total encoded length (marker included) for an
// ascending varint marker, or 0 if m is not a varint marker.
func varintLen(m byte) int {
	switch {
	case m < varintMin || m > varintMax:
		return 0
	case m < varintZero:
		return 1 + varintZero - int(m)
	case m <= varintZero+varintSmall:
		return 1
	default:
		return 1 + int(m) - varintPosFirst
	}
}

func decodeVarint(b []byte, mask byte) ([]byte, int64, error) {
	if len(b) == 0 {
		return nil, 0, corrupt("empty varint")
	}
	m := b[0] ^ mask
	size := varintLen(m)
	switch {
	case size == 0:
		return nil, 0, corrupt("invalid varint marker 0x%02x", m)
	case len(b) < size:
		return nil, 0, corrupt("truncated varint: need %d bytes, have %d", size, len(b))
	case size == 1:
		return b[1:], int64(m) - varintZero, nil
	}
	var u uint64
	for _, c := range b[1:size] {
		u = u<<8 | uint64(c^mask)
	}
	n := size - 1
	first := byte(u >> (8 * (n - 1)))
	if m < varintZero {
		// Negative: reject lengths that a shorter form could hold (leading
		// 0xFF) and 8-byte payloads below MinInt64.
		if (n > 1 && first == 0xFF) || (n == 8 && first < 0x80) {
			return nil, 0, corrupt("non-canonical negative varint")
		}
		return b[size:], int64(u | ^uint64(0)<<(8*n)), nil
	}
	if (n == 1 && u <= varintSmall) || (n > 1 && first == 0) || (n == 8 && first >= 0x80) {
		return nil, 0, corrupt("non-canonical positive varint")
	}
	return b[size:], int64(u), nil
}

// --- Floats ---

// Float keys: a sign-adjusted IEEE 754 bit pattern (see floatKey).
const (
	floatKeyNaN    = 0                  // canonical NaN, below -Inf
	floatKeyNegInf = 0x000FFFFFFFFFFFFF // ^bits(-Inf)
	floatKeyPosInf = 0xFFF0000000000000 // bits(+Inf) | signBit
	floatKeyNegZ   = 0x7FFFFFFFFFFFFFFF // ^bits(-0), never produced
)

// floatKey maps f to a uint64 whose order is f's order with NaN first and
// -0 equal to +0: negative numbers have all bits inverted, non-negative
// numbers have the sign bit set.
func floatKey(f float64) uint64 {
	if f != f {
		return floatKeyNaN
	}
	if f == 0 {
		f = 0 // normalise -0 to +0
	}
	u := math.Float64bits(f)
	if u&signBit != 0 {
		return ^u
	}
	return u | signBit
}

func keyFloat(u uint64) (float64, error) {
	switch {
	case u == floatKeyNaN:
		return math.NaN(), nil
	case u < floatKeyNegInf || u > floatKeyPosInf:
		return 0, corrupt("non-canonical NaN float")
	case u == floatKeyNegZ:
		return 0, corrupt("non-canonical negative zero float")
	case u&signBit != 0:
		return math.Float64frombits(u &^ signBit), nil
	default:
		return math.Float64frombits(^u), nil
	}
}

// EncodeFloatAscending appends an 8-byte order-preserving encoding of f.
// All NaNs encode alike and sort before -Inf; -0 encodes as +0.
func EncodeFloatAscending(b []byte, f float64) []byte {
	return EncodeUint64Ascending(b, floatKey(f))
}

// EncodeFloatDescending appends the bitwise NOT of EncodeFloatAscending(f).
func EncodeFloatDescending(b []byte, f float64) []byte {
	return EncodeUint64Descending(b, floatKey(f))
}

// DecodeFloatAscending decodes a value written by EncodeFloatAscending.
func DecodeFloatAscending(b []byte) (rest []byte, f float64, err error) {
	return decodeFloat(b, ascMask)
}

// DecodeFloatDescending decodes a value written by EncodeFloatDescending.
func DecodeFloatDescending(b []byte) (rest []byte, f float64, err error) {
	return decodeFloat(b, descMask)
}

func decodeFloat(b []byte, mask byte) ([]byte, float64, error) {
	rest, u, err := decodeUint64(b, mask)
	if err != nil {
		return nil, 0, err
	}
	f, err := keyFloat(u)
	if err != nil {
		return nil, 0, err
	}
	return rest, f, nil
}
