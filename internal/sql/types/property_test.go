package types

import (
	"bytes"
	"math/rand"
	"testing"
	"time"
)

const propertyIters = 400

// TestTextRoundTrip: the text output of any value reads back as an equal
// value that prints the same.
func TestTextRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	settings := []*Settings{nil, {Location: time.FixedZone("", -(9*3600 + 30*60))}}
	if ny, err := time.LoadLocation("America/New_York"); err == nil {
		settings = append(settings, &Settings{Location: ny})
	}
	for _, name := range randTypes {
		typ := mustType(t, name)
		for i := 0; i < propertyIters; i++ {
			d := randDatum(rng, typ)
			s := settings[i%len(settings)]
			text := FormatText(d, typ, s)
			back, err := ParseText(text, typ, s)
			if err != nil {
				t.Fatalf("%s: %q does not read back: %v", name, text, err)
			}
			if Compare(d, back) != 0 {
				t.Fatalf("%s: %q reads back as %q", name, text, FormatText(back, typ, s))
			}
			if again := FormatText(back, typ, s); again != text {
				t.Fatalf("%s: %q reads back and prints %q", name, text, again)
			}
		}
	}
}

// TestBinaryRoundTrip: the binary format of any value reads back as an
// equal value with the same text.
func TestBinaryRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for _, name := range randTypes {
		typ := mustType(t, name)
		for i := 0; i < propertyIters; i++ {
			d := randDatum(rng, typ)
			b := AppendBinary(nil, d, typ)
			back, err := ParseBinary(b, typ)
			if err != nil {
				t.Fatalf("%s: binary of %s (%x) does not read back: %v", name, FormatText(d, typ, nil), b, err)
			}
			if Compare(d, back) != 0 || FormatText(d, typ, nil) != FormatText(back, typ, nil) {
				t.Fatalf("%s: %s reads back as %s", name, FormatText(d, typ, nil), FormatText(back, typ, nil))
			}
		}
	}
}

// TestKeyConsistentWithCompare: EncodeKey and Hash agree with Equal, on
// random pairs from small domains so that equal values occur.
func TestKeyConsistentWithCompare(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for _, name := range randTypes {
		typ := mustType(t, name)
		pool := make([]Datum, 40)
		for i := range pool {
			pool[i] = randDatum(rng, typ)
		}
		pool = append(pool, DNull)
		for _, a := range pool {
			for _, b := range pool {
				eq := Equal(a, b)
				keyEq := bytes.Equal(EncodeKey(nil, a), EncodeKey(nil, b))
				if eq != keyEq {
					t.Fatalf("%s: Equal(%s, %s) = %v but keys equal = %v", name, a, b, eq, keyEq)
				}
				if eq && Hash(a) != Hash(b) {
					t.Fatalf("%s: equal %s and %s hash differently", name, a, b)
				}
				if c, r := Compare(a, b), Compare(b, a); c != -r {
					t.Fatalf("%s: Compare(%s, %s) = %d but reverse %d", name, a, b, c, r)
				}
			}
		}
	}
}

// TestCompareTransitive checks that sorting by Compare is consistent.
func TestCompareTransitive(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	for _, name := range randTypes {
		typ := mustType(t, name)
		for i := 0; i < 200; i++ {
			a, b, c := randDatum(rng, typ), randDatum(rng, typ), randDatum(rng, typ)
			if Compare(a, b) <= 0 && Compare(b, c) <= 0 && Compare(a, c) > 0 {
				t.Fatalf("%s: %s <= %s <= %s but %s > %s", name, a, b, c, a, c)
			}
		}
	}
}
