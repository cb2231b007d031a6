package catalog

import (
	"context"
	"fmt"
	"sync"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kv"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
)

// CreateSequence creates sequence seq in database db, setting seq.ID and
// seq.ParentID (and seq.Schema to DefaultSchema if empty). Tables and
// sequences share names: a taken name fails with 42P07.
func CreateSequence(ctx context.Context, txn *kv.Txn, db *DatabaseDescriptor, seq *SequenceDescriptor) error {
	if seq.Schema == "" {
		seq.Schema = DefaultSchema
	}
	if err := checkName(seq.Schema, seq.Name); err != nil {
		return err
	}
	if err := seq.Validate(); err != nil {
		return err
	}
	existing, err := lookupName(ctx, txn, db.ID, seq.Schema, seq.Name)
	if err != nil {
		return err
	}
	if existing != 0 {
		return errRelationExists(seq.Name)
	}
	if err := beginDDL(ctx, txn); err != nil {
		return err
	}
	if seq.ID, err = AllocateDescriptorID(ctx, txn); err != nil {
		return err
	}
	seq.ParentID = db.ID
	v, err := EncodeSequence(seq)
	if err != nil {
		return err
	}
	if err := txn.Put(keys.DescriptorKey(seq.ID), v); err != nil {
		return err
	}
	// The counter key is not reset here: this transaction may already
	// have drawn values (nextval is not transactional), and a reset at
	// commit would hand them out again. A counter left behind by an aborted
	// transaction that had the same id only makes the sequence skip values.
	return txn.Put(keys.NamespaceKey(db.ID, seq.Schema, seq.Name), encodeID(seq.ID))
}

// GetSequence returns sequence schema.name of database dbID, or nil and no
// error if there is none; a table of that name fails with 42809.
func GetSequence(ctx context.Context, txn *kv.Txn, dbID uint32, schema, name string) (*SequenceDescriptor, error) {
	id, err := lookupName(ctx, txn, dbID, schema, name)
	if err != nil || id == 0 {
		return nil, err
	}
	d, err := getDescriptor(ctx, txn, id)
	if err != nil {
		return nil, err
	}
	if d.sequence == nil {
		return nil, sqlerr.Newf(sqlerr.CodeWrongObjectType, "%q is not a sequence", name)
	}
	return d.sequence, nil
}

// GetSequenceByID returns sequence id, or nil and no error if there is
// none.
func GetSequenceByID(ctx context.Context, txn *kv.Txn, id uint32) (*SequenceDescriptor, error) {
	d, err := getDescriptor(ctx, txn, id)
	if err != nil {
		return nil, err
	}
	if d.sequence == nil && d.kind() != "nothing" {
		return nil, sqlerr.Newf(sqlerr.CodeWrongObjectType, "descriptor %d is a %s, not a sequence", id, d.kind())
	}
	return d.sequence, nil
}

// ListSequences returns the sequences of database dbID, by schema and
// name.
func ListSequences(ctx context.Context, txn *kv.Txn, dbID uint32) ([]*SequenceDescriptor, error) {
	ds, err := listRelations(ctx, txn, dbID)
	if err != nil {
		return nil, err
	}
	var out []*SequenceDescriptor
	for _, d := range ds {
		if d.sequence != nil {
			out = append(out, d.sequence)
		}
	}
	return out, nil
}

// DropSequence removes sequence seq. A sequence that a column draws from
// (Column.SequenceID) is refused with 2BP01 unless cascade, in which case
// those columns lose their default.
func DropSequence(ctx context.Context, txn *kv.Txn, seq *SequenceDescriptor, cascade bool) error {
	tables, err := ListTables(ctx, txn, seq.ParentID)
	if err != nil {
		return err
	}
	if err := beginDDL(ctx, txn); err != nil {
		return err
	}
	for _, t := range tables {
		changed := false
		for i := range t.Columns {
			c := &t.Columns[i]
			if c.SequenceID != seq.ID {
				continue
			}
			if !cascade {
				return sqlerr.Newf(sqlerr.CodeDependentObjectsStillExist,
					"cannot drop sequence %s because other objects depend on it", seq.Name).
					WithDetail("default value for column %s of table %s depends on sequence %s", c.Name, t.Name, seq.Name).
					WithHint("Use DROP ... CASCADE to drop the dependent objects too.")
			}
			c.SequenceID, c.DefaultExpr, changed = 0, "", true
		}
		if changed {
			t.Version++
			if err := putTable(txn, t); err != nil {
				return err
			}
		}
	}
	return deleteSequence(txn, seq)
}

func deleteSequence(txn *kv.Txn, seq *SequenceDescriptor) error {
	if err := txn.Delete(keys.NamespaceKey(seq.ParentID, seq.Schema, seq.Name)); err != nil {
		return err
	}
	if err := txn.Delete(keys.SequenceCounterKey(seq.ID)); err != nil {
		return err
	}
	return txn.Delete(keys.DescriptorKey(seq.ID))
}

// Sequences hands out sequence values on one node. As in PostgreSQL,
// nextval is not transactional: a value is never handed out twice, even
// by a transaction that aborts, and values may be skipped. The sequence's
// counter key counts the values reserved so far, cluster-wide; a node
// reserves Cache of them at a time with one kv.DB.Increment and hands them
// out from memory, so that values from different nodes interleave (as
// with PostgreSQL's CACHE across sessions).
type Sequences struct {
	db *kv.DB

	mu struct {
		sync.Mutex
		// blocks holds each sequence's reserved, unused positions.
		blocks map[uint32]*seqBlock
	}
}

// maxSequenceBlock bounds the values a node reserves at once, whatever
// the sequence's CACHE says, so that the counter cannot overflow.
const maxSequenceBlock = 1 << 16

// seqBlock is a block of reserved positions [next, end) of one sequence:
// position k is the value Start + k*Increment.
type seqBlock struct {
	mu        sync.Mutex // guards next and end; held across the Increment
	next, end int64
}

// NewSequences returns a node's sequence value source.
func NewSequences(db *kv.DB) *Sequences {
	s := &Sequences{db: db}
	s.mu.blocks = make(map[uint32]*seqBlock)
	return s
}

// NextVal returns the next value of seq (the caller read seq in its
// transaction: the sequence may have been created by it). At the end of
// the sequence's range it fails with 2200H, as PostgreSQL does (CYCLE is
// not supported).
func (s *Sequences) NextVal(ctx context.Context, seq *SequenceDescriptor) (int64, error) {
	if err := seq.Validate(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	b := s.mu.blocks[seq.ID]
	if b == nil {
		b = &seqBlock{}
		s.mu.blocks[seq.ID] = b
	}
	s.mu.Unlock()

	b.mu.Lock()
	defer b.mu.Unlock()
	if b.next >= b.end {
		n := min(seq.Cache, maxSequenceBlock)
		hi, err := s.db.Increment(ctx, keys.SequenceCounterKey(seq.ID), n)
		if err != nil {
			return 0, err
		}
		b.next, b.end = hi-n, hi
	}
	pos := b.next
	v, ok := sequenceValue(seq, pos)
	if !ok {
		// Leave the block as it is: every later call fails alike.
		if seq.Increment > 0 {
			return 0, sqlerr.Newf(sqlerr.CodeSequenceGeneratorLimitExceeded,
				"nextval: reached maximum value of sequence %q (%d)", seq.Name, seq.Max)
		}
		return 0, sqlerr.Newf(sqlerr.CodeSequenceGeneratorLimitExceeded,
			"nextval: reached minimum value of sequence %q (%d)", seq.Name, seq.Min)
	}
	b.next++
	return v, nil
}

// Forget drops the values this node reserved for sequence id (after DROP
// SEQUENCE).
func (s *Sequences) Forget(id uint32) {
	s.mu.Lock()
	delete(s.mu.blocks, id)
	s.mu.Unlock()
}

// sequenceValue returns Start + pos*Increment, and false if that is
// beyond Max (or below Min) or pos is negative. Computed in uint64 so that
// no intermediate overflows: the number of steps that fit is
// (Max-Start)/Increment, and Max-Start >= 0 fits a uint64.
func sequenceValue(seq *SequenceDescriptor, pos int64) (int64, bool) {
	if pos < 0 {
		return 0, false
	}
	var span, step uint64
	if seq.Increment > 0 {
		span, step = uint64(seq.Max)-uint64(seq.Start), uint64(seq.Increment)
	} else {
		span, step = uint64(seq.Start)-uint64(seq.Min), -uint64(seq.Increment)
	}
	if uint64(pos) > span/step {
		return 0, false
	}
	return int64(uint64(seq.Start) + uint64(pos)*uint64(seq.Increment)), true
}

func (s *SequenceDescriptor) String() string {
	return fmt.Sprintf("sequence %d %s.%s", s.ID, s.Schema, s.Name)
}

// DropOwnedSequence removes sequence id, which a column being dropped
// owned (SERIAL): unlike DropSequence it leaves the tables alone, the
// caller updating the owner's descriptor in the same transaction. A
// missing sequence is not an error.
func DropOwnedSequence(ctx context.Context, txn *kv.Txn, id uint32) error {
	seq, err := GetSequenceByID(ctx, txn, id)
	if err != nil || seq == nil {
		return err
	}
	if err := beginDDL(ctx, txn); err != nil {
		return err
	}
	return deleteSequence(txn, seq)
}

// SetVal sets seq's last value to v: NextVal next hands out v plus
// Increment if isCalled, else v itself (PostgreSQL's setval). v must lie
// in [Min, Max] (22003) and be Start plus a multiple of Increment (the
// counter counts steps). This node's reserved block is dropped; as in
// PostgreSQL the change is not transactional, and values another node
// reserved before are still handed out by it.
func (s *Sequences) SetVal(ctx context.Context, seq *SequenceDescriptor, v int64, isCalled bool) error {
	if err := seq.Validate(); err != nil {
		return err
	}
	if v < seq.Min || v > seq.Max {
		return sqlerr.Newf(sqlerr.CodeNumericValueOutOfRange,
			"setval: value %d is out of bounds for sequence %q (%d..%d)", v, seq.Name, seq.Min, seq.Max)
	}
	diff, step := uint64(v)-uint64(seq.Start), uint64(seq.Increment)
	if seq.Increment < 0 {
		diff, step = uint64(seq.Start)-uint64(v), -uint64(seq.Increment)
	}
	if (seq.Increment > 0) != (v >= seq.Start) && v != seq.Start || diff%step != 0 {
		return sqlerr.Newf(sqlerr.CodeFeatureNotSupported,
			"setval: value %d is not START (%d) plus a multiple of INCREMENT (%d) for sequence %q", v, seq.Start, seq.Increment, seq.Name)
	}
	pos := int64(diff / step)
	if isCalled {
		pos++
	}
	s.mu.Lock()
	b := s.mu.blocks[seq.ID]
	if b == nil {
		b = &seqBlock{}
		s.mu.blocks[seq.ID] = b
	}
	s.mu.Unlock()
	b.mu.Lock()
	defer b.mu.Unlock()
	cur, err := s.db.Increment(ctx, keys.SequenceCounterKey(seq.ID), 0)
	if err != nil {
		return err
	}
	if _, err := s.db.Increment(ctx, keys.SequenceCounterKey(seq.ID), pos-cur); err != nil {
		return err
	}
	b.next, b.end = 0, 0
	return nil
}
