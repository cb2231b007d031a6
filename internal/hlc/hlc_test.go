package hlc

import (
	"testing"
	"time"
)

func TestMonotonicWhenWallClockGoesBack(t *testing.T) {
	wall := time.UnixMilli(1_000_000)
	c := New(func() time.Time { return wall })
	a := c.Now()
	wall = wall.Add(-time.Hour) // clock jump backwards
	b := c.Now()
	if b <= a {
		t.Fatalf("timestamps went backwards: %d then %d", a, b)
	}
	c.Update(b + 100)
	if d := c.Now(); d <= b+100 {
		t.Fatalf("Now after Update(%d) = %d", b+100, d)
	}
	if got := Physical(a); !got.Equal(time.UnixMilli(1_000_000)) {
		t.Fatalf("Physical = %v", got)
	}
}
