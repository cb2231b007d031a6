package storage

import "github.com/cockroachdb/pebble/v2"

// PointReader is a Reader for a request that reads several single keys:
// MVCCGet through it reuses one iterator, re-bounded to each key in turn,
// instead of building and closing an iterator per key (a new iterator sets
// up every level of the LSM, and its first seek loads each level's file;
// that was about a third of a point read on a busy leaseholder). Everything
// else (NewIter, Get) goes to the underlying Reader.
//
// Its reads are one consistent view: over the engine (or a View) they see
// the state as of the first read, whatever is written meanwhile. Over an
// indexed batch they also see every write made to the batch before each
// read, as reads without it do. Not safe for concurrent use; Close releases
// the iterator (not the underlying Reader), and reads after it start a new
// view.
type PointReader struct {
	Reader
	it   *pebble.Iterator
	opts pebble.IterOptions
}

var _ Reader = (*PointReader)(nil)

// NewPointReader returns a PointReader over r.
func NewPointReader(r Reader) *PointReader { return &PointReader{Reader: r} }

func (p *PointReader) mvccGet(key []byte, ts uint64) (MVCCGetResult, error) {
	prefix, end := mvccPrefixAndEnd(key)
	// Fresh bounds each time: the iterator may keep them until the next
	// call. The options themselves are copied (p.opts saves an allocation).
	p.opts = pebble.IterOptions{LowerBound: prefix, UpperBound: end}
	if p.it == nil {
		it, err := p.Reader.NewIter(&p.opts)
		if err != nil {
			return MVCCGetResult{}, err
		}
		p.it = it
	} else {
		// SetOptions, not SetBounds: it also refreshes the iterator's view of
		// an indexed batch written since the last read.
		p.it.SetOptions(&p.opts)
	}
	return mvccGetIter(p.it, prefix, ts)
}

// Close closes the PointReader's iterator; the underlying Reader stays open.
func (p *PointReader) Close() error {
	if p.it == nil {
		return nil
	}
	err := p.it.Close()
	p.it = nil
	return err
}
