package encoding

import "fmt"

// Direction is the sort order of one key column.
type Direction int

const (
	// Ascending sorts smaller values (and NULL) first.
	Ascending Direction = iota
	// Descending sorts larger values first and NULL last.
	Descending
)

func (d Direction) String() string {
	switch d {
	case Ascending:
		return "ASC"
	case Descending:
		return "DESC"
	default:
		return fmt.Sprintf("Direction(%d)", int(d))
	}
}

// mask returns the XOR mask for d, or an error for an unknown direction.
func (d Direction) mask() (byte, error) {
	switch d {
	case Ascending:
		return ascMask, nil
	case Descending:
		return descMask, nil
	default:
		return 0, fmt.Errorf("encoding: invalid direction %d", int(d))
	}
}

// Datum is one SQL value in a key: nil (NULL), bool, int64, float64, string
// or []byte. Decoding returns exactly these types; an empty []byte decodes
// as a non-nil empty slice.
type Datum = any

// Datum marker bytes (ascending form); see doc.go. int64 datums have no
// separate marker: their varint marker byte (0x80-0xFD) is the type marker.
const (
	markerNull   byte = 0x00
	markerFalse  byte = 0x10
	markerTrue   byte = 0x11
	markerBytes  byte = 0x12
	markerString byte = 0x13
	markerFloat  byte = 0x20
)

// EncodeDatum appends the tagged encoding of v in direction dir. The
// descending encoding is the bitwise NOT of the ascending one, so NULL sorts
// first ascending and last descending. On error b is returned unchanged.
func EncodeDatum(b []byte, dir Direction, v Datum) ([]byte, error) {
	mask, err := dir.mask()
	if err != nil {
		return b, err
	}
	start := len(b)
	switch v := v.(type) {
	case nil:
		b = append(b, markerNull)
	case bool:
		if v {
			b = append(b, markerTrue)
		} else {
			b = append(b, markerFalse)
		}
	case int64:
		b = EncodeVarintAscending(b, v)
	case float64:
		b = EncodeFloatAscending(append(b, markerFloat), v)
	case string:
		b = EncodeStringAscending(append(b, markerString), v)
	case []byte:
		b = EncodeBytesAscending(append(b, markerBytes), v)
	default:
		return b, fmt.Errorf("%w %T", ErrUnsupportedType, v)
	}
	if mask != ascMask {
		invert(b[start:])
	}
	return b, nil
}

// DecodeDatum decodes one datum written by EncodeDatum with the same
// direction from the front of b.
func DecodeDatum(b []byte, dir Direction) (rest []byte, v Datum, err error) {
	mask, err := dir.mask()
	if err != nil {
		return nil, nil, err
	}
	if len(b) == 0 {
		return nil, nil, corrupt("missing datum")
	}
	switch m := b[0] ^ mask; {
	case m == markerNull:
		return b[1:], nil, nil
	case m == markerFalse:
		return b[1:], false, nil
	case m == markerTrue:
		return b[1:], true, nil
	case m == markerBytes:
		rest, data, err := decodeBytes(b[1:], mask)
		if err != nil {
			return nil, nil, err
		}
		return rest, data, nil
	case m == markerString:
		rest, data, err := decodeBytes(b[1:], mask)
		if err != nil {
			return nil, nil, err
		}
		return rest, string(data), nil
	case m == markerFloat:
		rest, f, err := decodeFloat(b[1:], mask)
		if err != nil {
			return nil, nil, err
		}
		return rest, f, nil
	case varintLen(m) > 0:
		rest, i, err := decodeVarint(b, mask)
		if err != nil {
			return nil, nil, err
		}
		return rest, i, nil
	default:
		return nil, nil, corrupt("unknown datum marker 0x%02x", m)
	}
}

// EncodeTuple appends the concatenated encodings of vals, vals[i] in
// direction dirs[i]. Because every datum encoding is prefix-free, the byte
// order of two tuples is the column-by-column order of their values. On
// error b is returned unchanged.
func EncodeTuple(b []byte, dirs []Direction, vals []Datum) ([]byte, error) {
	if len(dirs) != len(vals) {
		return b, fmt.Errorf("encoding: %d directions for %d values", len(dirs), len(vals))
	}
	out := b
	for i, v := range vals {
		var err error
		if out, err = EncodeDatum(out, dirs[i], v); err != nil {
			return b, fmt.Errorf("tuple element %d: %w", i, err)
		}
	}
	return out, nil
}

// DecodeTuple decodes len(dirs) datums written by EncodeTuple from the front
// of b and returns the remaining bytes.
func DecodeTuple(b []byte, dirs []Direction) (rest []byte, vals []Datum, err error) {
	vals = make([]Datum, len(dirs))
	for i, dir := range dirs {
		if b, vals[i], err = DecodeDatum(b, dir); err != nil {
			return nil, nil, fmt.Errorf("tuple element %d: %w", i, err)
		}
	}
	return b, vals, nil
}

// PrefixEnd returns the smallest key greater than every key that has key as
// a prefix: key with trailing 0xFF bytes dropped and the last remaining byte
// incremented. It returns nil, meaning "no upper bound", when key is empty
// or all 0xFF. key is not modified.
func PrefixEnd(key []byte) []byte {
	for i := len(key) - 1; i >= 0; i-- {
		if key[i] != 0xFF {
			end := make([]byte, i+1)
			copy(end, key)
			end[i]++
			return end
		}
	}
	return nil
}
