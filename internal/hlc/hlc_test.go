package hlc

import (
	"errors"
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

func TestUpdateCheckedRefusesFarFuture(t *testing.T) {
	wall := time.UnixMilli(1_700_000_000_000)
	c := New(func() time.Time { return wall })
	near := FromPhysical(wall.Add(MaxForwardJump/2).UnixMilli(), 0)
	if err := c.UpdateChecked(near); err != nil {
		t.Fatalf("UpdateChecked(%s ahead): %v", MaxForwardJump/2, err)
	}
	if got := c.Now(); got <= near {
		t.Fatalf("Now() = %d after UpdateChecked(%d)", got, near)
	}
	far := FromPhysical(wall.Add(2*MaxForwardJump).UnixMilli(), 0)
	if err := c.UpdateChecked(far); !errors.Is(err, ErrTimestampTooFar) {
		t.Fatalf("UpdateChecked(%s ahead) = %v, want ErrTimestampTooFar", 2*MaxForwardJump, err)
	}
	if got := c.Now(); got >= far {
		t.Fatalf("the clock jumped to %d", got)
	}
}
