package storage

import (
	"bytes"
	"encoding/binary"

	"github.com/cockroachdb/pebble/v2"
)

// A key's versions are adjacent, newest first, and a read wants one of them:
// it moves past the rest either with Next, one version at a time, or with a
// SeekGE past them all. A Next is far cheaper than a seek, which searches
// every memtable and level, but a hot key has tens of versions. A
// versionSkipper chooses, adapting to what the scan meets (as CockroachDB's
// MVCC scanner adapts its itersBeforeSeek): it tries up to nexts Nexts
// first, one more after they sufficed, one fewer after they did not. At
// zero it seeks straight away, and consecutive forward seeks let Pebble
// move each level's iterator on from where it stands (TrySeekUsingNext)
// instead of searching it again: over keys with ~150 versions that made a
// scan a third cheaper than four Nexts and a seek (BenchmarkReadsUnderChurn);
// while at zero, every directSeeksBeforeProbe-th skip tries one Next, so
// that it notices when versions thin out.
type versionSkipper struct {
	nexts int // Nexts to try before seeking: 0..maxNextsBeforeSeek
	seeks int // direct seeks since the last probe (while nexts == 0)
	buf   []byte
}

const (
	maxNextsBeforeSeek     = 4
	directSeeksBeforeProbe = 16
)

func newVersionSkipper() versionSkipper { return versionSkipper{nexts: maxNextsBeforeSeek} }

// budget is how many Nexts to try before seeking this time.
func (s *versionSkipper) budget() int {
	if s.nexts > 0 {
		return s.nexts
	}
	if s.seeks++; s.seeks < directSeeksBeforeProbe {
		return 0
	}
	s.seeks = 0
	return 1
}

// sufficed records that the Nexts reached their target; seeking that they
// did not.
func (s *versionSkipper) sufficed() { s.nexts = min(s.nexts+1, maxNextsBeforeSeek) }
func (s *versionSkipper) seeking()  { s.nexts = max(s.nexts-1, 0) }

// isVersionOf reports whether engine key k is a version of the key whose
// MVCC prefix is p (prefixes are prefix-free: no other key's starts with p).
func isVersionOf(k, p []byte) bool { return len(k) == len(p)+8 && bytes.HasPrefix(k, p) }

// skipToVisible moves it, positioned at a version of the key with MVCC
// prefix p newer than ts, to the newest version at or below ts: same
// reports it found one; otherwise it is at the next key (or exhausted).
func (s *versionSkipper) skipToVisible(it *pebble.Iterator, p []byte, ts uint64) (valid, same bool) {
	for range s.budget() {
		if !it.Next() {
			return false, false
		}
		k := it.Key()
		if !isVersionOf(k, p) {
			s.sufficed()
			return true, false
		}
		if ^binary.BigEndian.Uint64(k[len(p):]) <= ts {
			s.sufficed()
			return true, true
		}
	}
	s.seeking()
	s.buf = binary.BigEndian.AppendUint64(append(s.buf[:0], p...), ^ts)
	if !it.SeekGE(s.buf) {
		return false, false
	}
	return true, isVersionOf(it.Key(), p)
}

// skipKey moves it past every remaining version of the key with MVCC
// prefix p.
func (s *versionSkipper) skipKey(it *pebble.Iterator, p []byte) bool {
	for range s.budget() {
		if !it.Next() {
			return false
		}
		if !bytes.HasPrefix(it.Key(), p) {
			s.sufficed()
			return true
		}
	}
	s.seeking()
	if s.buf = appendPrefixEnd(s.buf[:0], p); s.buf == nil {
		return false // nothing sorts after p (never for an MVCC prefix)
	}
	return it.SeekGE(s.buf)
}
