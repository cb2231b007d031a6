package catalog

import (
	"math"
	"slices"
	"strings"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// Descriptor id and index id conventions.
const (
	// FirstDescriptorID is the first id handed to a database, table or
	// sequence; smaller ids are reserved for system tables.
	FirstDescriptorID = 100
	// PrimaryIndexID is the id of a new table's primary index (TRUNCATE
	// and ADD PRIMARY KEY give it a fresh one: use PrimaryIndex.ID).
	PrimaryIndexID = 1
	// DefaultSchema is the schema of a table created without one.
	DefaultSchema = "public"
	// MaxHashBuckets bounds PARTITION BY HASH: every range scan of the
	// table becomes one span per bucket.
	MaxHashBuckets = 1024
)

// Column is a column of a table.
type Column struct {
	// ID identifies the column for its table's lifetime; ids are never
	// reused, so that a value written before a DROP COLUMN cannot be read
	// as a later column.
	ID       uint32
	Name     string
	Type     *types.Type
	Nullable bool
	// DefaultExpr is the DEFAULT expression as SQL text; "" for none.
	DefaultExpr string
	// Hidden marks the implicit rowid of a table without a primary key:
	// not part of SELECT *.
	Hidden bool
	// SequenceID is the sequence a SERIAL (or identity) column draws its
	// default from, 0 for none. The sequence is dropped with the table.
	SequenceID uint32
	// Missing is the column's value in rows written before the column was
	// added (ALTER TABLE ADD COLUMN ... DEFAULT, evaluated once, as
	// PostgreSQL's attmissingval); nil for NULL. rowenc.DecodeRow fills
	// it in for a value that lacks the column.
	Missing types.Datum
}

// IndexState is where an index is in its life.
type IndexState int32

const (
	// IndexPublic: the index is complete; reads may use it.
	IndexPublic IndexState = 0
	// IndexWriteOnly: the index is being built (backfilled) over the
	// existing rows. Every write maintains it (and enforces its
	// uniqueness), but no read uses it: it may lack rows written before it
	// was added.
	IndexWriteOnly IndexState = 1
)

// Index is the primary index or a secondary index of a table.
type Index struct {
	ID        uint32
	Name      string
	ColumnIDs []uint32
	// Descending is nil (every column ascending) or has one entry per
	// entry of ColumnIDs.
	Descending []bool
	Unique     bool
	// State is IndexPublic except while the index is being built.
	State IndexState
	// NewPrimary marks a write-only index that is to replace the primary
	// index (ALTER TABLE ADD PRIMARY KEY): its entries are encoded as the
	// primary index's are, whole rows keyed by its columns.
	NewPrimary bool
	// KeyIndexID, for a write-only secondary index rebuilt along with a
	// new primary index, is the id of that (NewPrimary) index: its entries
	// carry that index's columns as the row's key. 0: the primary index.
	KeyIndexID uint32
}

// Public reports whether reads may use the index.
func (idx *Index) Public() bool { return idx.State == IndexPublic }

// IsDescending reports whether the i-th column of the index is descending.
func (idx *Index) IsDescending(i int) bool { return i < len(idx.Descending) && idx.Descending[i] }

// Check is a CHECK constraint; Expr is SQL text.
type Check struct {
	Name, Expr string
}

// ForeignKey is a FOREIGN KEY constraint: ColumnIDs of this table
// reference RefColumnIDs of table RefTableID (in the same database; it may
// be this table).
type ForeignKey struct {
	Name         string
	ColumnIDs    []uint32
	RefTableID   uint32
	RefColumnIDs []uint32
	// OnDelete and OnUpdate are the referential actions (NO ACTION by
	// default).
	OnDelete, OnUpdate FKAction
	// MatchFull: MATCH FULL (a key partly NULL is refused); false is
	// MATCH SIMPLE (a key with a NULL is not checked).
	MatchFull bool
}

// FKAction is a foreign key's referential action.
type FKAction int32

// The referential actions (the values are stored: never renumber).
const (
	FKNoAction   FKAction = 0
	FKRestrict   FKAction = 1
	FKCascade    FKAction = 2
	FKSetNull    FKAction = 3
	FKSetDefault FKAction = 4
)

// String returns the action as SQL writes it.
func (a FKAction) String() string {
	switch a {
	case FKRestrict:
		return "RESTRICT"
	case FKCascade:
		return "CASCADE"
	case FKSetNull:
		return "SET NULL"
	case FKSetDefault:
		return "SET DEFAULT"
	}
	return "NO ACTION"
}

// Code returns pg_constraint's confupdtype/confdeltype letter.
func (a FKAction) Code() string {
	switch a {
	case FKRestrict:
		return "r"
	case FKCascade:
		return "c"
	case FKSetNull:
		return "n"
	case FKSetDefault:
		return "d"
	}
	return "a"
}

// ForeignKeyByName returns the foreign key named name, or nil.
func (d *TableDescriptor) ForeignKeyByName(name string) *ForeignKey {
	for i := range d.ForeignKeys {
		if d.ForeignKeys[i].Name == name {
			return &d.ForeignKeys[i]
		}
	}
	return nil
}

// TableDescriptor describes a table. Descriptors handed out by Cache are
// shared: Clone one before changing it.
//
// Invariants (Validate): column ids are unique, nonzero and below
// NextColumnID; index ids are unique, nonzero and below NextIndexID (the
// primary index is 1 at creation, and gets a fresh id when the table's data
// is replaced: TRUNCATE, ALTER TABLE ADD PRIMARY KEY); the primary index is
// public; primary key columns are NOT NULL; HashColumnID is a primary key
// column when HashBuckets > 0.
type TableDescriptor struct {
	ID uint32
	// ParentID is the id of the database.
	ParentID uint32
	Schema   string
	Name     string
	// Columns in their order of definition (the order of SELECT *); a
	// row is a []types.Datum indexed like Columns (see rowenc).
	Columns      []Column
	PrimaryIndex Index
	Indexes      []Index
	Checks       []Check
	ForeignKeys  []ForeignKey
	NextColumnID uint32
	NextIndexID  uint32
	// Version is 1 at creation and bumped by every UpdateTable.
	Version uint64
	// HashBuckets > 0: the primary key is prefixed with a hash bucket of
	// column HashColumnID (PARTITION BY HASH); see rowenc.
	HashBuckets  int32
	HashColumnID uint32
	// ReferencedBy lists the tables with a foreign key referencing this
	// one (this one too, for a foreign key to itself), kept up to date by
	// CreateTable, UpdateTable and DropTable.
	ReferencedBy []uint32
}

// DatabaseDescriptor describes a database.
type DatabaseDescriptor struct {
	ID   uint32
	Name string
}

// SequenceDescriptor describes a sequence. Values are Start,
// Start+Increment, ... within [Min, Max]; a node reserves Cache values at a
// time (see Sequences).
type SequenceDescriptor struct {
	ID, ParentID     uint32
	Schema, Name     string
	Start, Increment int64
	Min, Max         int64
	Cache            int64
}

// NewSequenceDescriptor returns a sequence with PostgreSQL's defaults for
// increment (1: ascending, -1: descending): an ascending sequence counts
// 1, 2, ... up to the int8 maximum, a descending one -1, -2, ... down to
// the minimum; Cache is 1.
func NewSequenceDescriptor(schema, name string, increment int64) *SequenceDescriptor {
	s := &SequenceDescriptor{Schema: schema, Name: name, Increment: increment, Cache: 1}
	if increment < 0 {
		s.Min, s.Max, s.Start = math.MinInt64, -1, -1
	} else {
		s.Min, s.Max, s.Start = 1, math.MaxInt64, 1
	}
	return s
}

// Validate checks the sequence's parameters, with PostgreSQL's messages.
func (s *SequenceDescriptor) Validate() error {
	switch {
	case s.Name == "":
		return sqlerr.New(sqlerr.CodeInvalidObjectDefinition, "sequence has no name")
	case s.Increment == 0:
		return sqlerr.New(sqlerr.CodeInvalidParameterValue, "INCREMENT must not be zero")
	case s.Min >= s.Max:
		return sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "MINVALUE (%d) must be less than MAXVALUE (%d)", s.Min, s.Max)
	case s.Start < s.Min:
		return sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "START value (%d) cannot be less than MINVALUE (%d)", s.Start, s.Min)
	case s.Start > s.Max:
		return sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "START value (%d) cannot be greater than MAXVALUE (%d)", s.Start, s.Max)
	case s.Cache < 1:
		return sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "CACHE (%d) must be greater than zero", s.Cache)
	}
	return nil
}

// ColumnByName returns the column named name (compared exactly: names
// are already case-folded by the parser), or nil.
func (d *TableDescriptor) ColumnByName(name string) *Column {
	for i := range d.Columns {
		if d.Columns[i].Name == name {
			return &d.Columns[i]
		}
	}
	return nil
}

// ColumnByID returns the column with id, or nil.
func (d *TableDescriptor) ColumnByID(id uint32) *Column {
	if i := d.ColumnOrdinal(id); i >= 0 {
		return &d.Columns[i]
	}
	return nil
}

// ColumnOrdinal returns the position in Columns of the column with id, or
// -1.
func (d *TableDescriptor) ColumnOrdinal(id uint32) int {
	for i := range d.Columns {
		if d.Columns[i].ID == id {
			return i
		}
	}
	return -1
}

// PublicColumns returns the columns SELECT * shows (all but hidden ones),
// in order. The slice is new; the columns are copies.
func (d *TableDescriptor) PublicColumns() []Column {
	out := make([]Column, 0, len(d.Columns))
	for _, c := range d.Columns {
		if !c.Hidden {
			out = append(out, c)
		}
	}
	return out
}

// IndexByName returns the primary or secondary index named name, or nil.
func (d *TableDescriptor) IndexByName(name string) *Index {
	if d.PrimaryIndex.Name == name {
		return &d.PrimaryIndex
	}
	for i := range d.Indexes {
		if d.Indexes[i].Name == name {
			return &d.Indexes[i]
		}
	}
	return nil
}

// IndexByID returns the primary or secondary index with id, or nil.
func (d *TableDescriptor) IndexByID(id uint32) *Index {
	if d.PrimaryIndex.ID == id {
		return &d.PrimaryIndex
	}
	for i := range d.Indexes {
		if d.Indexes[i].ID == id {
			return &d.Indexes[i]
		}
	}
	return nil
}

// AddColumn appends c with the next column id and returns that id.
func (d *TableDescriptor) AddColumn(c Column) uint32 {
	d.fixNextIDs()
	c.ID = d.NextColumnID
	d.NextColumnID++
	d.Columns = append(d.Columns, c)
	return c.ID
}

// AddIndex appends a secondary index with the next index id and returns
// that id.
func (d *TableDescriptor) AddIndex(idx Index) uint32 {
	d.fixNextIDs()
	idx.ID = d.NextIndexID
	d.NextIndexID++
	d.Indexes = append(d.Indexes, idx)
	return idx.ID
}

// fixNextIDs raises NextColumnID and NextIndexID above the ids in use (a
// descriptor built by hand may leave them 0).
func (d *TableDescriptor) fixNextIDs() {
	for _, c := range d.Columns {
		d.NextColumnID = max(d.NextColumnID, c.ID+1)
	}
	d.NextColumnID = max(d.NextColumnID, 1)
	d.NextIndexID = max(d.NextIndexID, PrimaryIndexID+1)
	for _, idx := range d.Indexes {
		d.NextIndexID = max(d.NextIndexID, idx.ID+1)
	}
}

// Clone returns a deep copy of d (types are immutable and shared).
func (d *TableDescriptor) Clone() *TableDescriptor {
	c := *d
	c.Columns = slices.Clone(d.Columns)
	c.PrimaryIndex = d.PrimaryIndex.clone()
	c.Indexes = make([]Index, len(d.Indexes))
	for i := range d.Indexes {
		c.Indexes[i] = d.Indexes[i].clone()
	}
	c.Checks = slices.Clone(d.Checks)
	c.ReferencedBy = slices.Clone(d.ReferencedBy)
	c.ForeignKeys = make([]ForeignKey, len(d.ForeignKeys))
	for i, fk := range d.ForeignKeys {
		fk.ColumnIDs = slices.Clone(fk.ColumnIDs)
		fk.RefColumnIDs = slices.Clone(fk.RefColumnIDs)
		c.ForeignKeys[i] = fk
	}
	return &c
}

func (idx Index) clone() Index {
	idx.ColumnIDs = slices.Clone(idx.ColumnIDs)
	idx.Descending = slices.Clone(idx.Descending)
	return idx
}

func invalidTable(format string, args ...any) error {
	return sqlerr.Newf(sqlerr.CodeInvalidTableDefinition, format, args...)
}

// Validate checks the invariants of the descriptor. Errors carry the
// SQLSTATE a client would see for the CREATE or ALTER that broke them
// (42701 for a repeated column name, 42P07 for a repeated index name,
// 42P16 otherwise).
func (d *TableDescriptor) Validate() error {
	if d.Name == "" || d.Schema == "" {
		return invalidTable("table %q has no name or no schema", d.Name)
	}
	if strings.IndexByte(d.Name, 0) >= 0 || strings.IndexByte(d.Schema, 0) >= 0 {
		return sqlerr.New(sqlerr.CodeInvalidParameterValue, "names cannot contain a NUL byte")
	}
	if d.ID == 0 || d.ParentID == 0 {
		return invalidTable("table %q has no id or no database", d.Name)
	}
	names := make(map[string]bool, len(d.Columns))
	ids := make(map[uint32]bool, len(d.Columns))
	for _, c := range d.Columns {
		switch {
		case c.Name == "":
			return invalidTable("column %d of table %q has no name", c.ID, d.Name)
		case names[c.Name]:
			return sqlerr.Newf(sqlerr.CodeDuplicateColumn, "column %q specified more than once", c.Name)
		case c.ID == 0 || c.ID >= d.NextColumnID || ids[c.ID]:
			return invalidTable("column %q of table %q has id %d (next id %d, or a repeated id)", c.Name, d.Name, c.ID, d.NextColumnID)
		case c.Type == nil || c.Type.Family() == types.UnknownFamily:
			return invalidTable("column %q of table %q has no type", c.Name, d.Name)
		}
		names[c.Name], ids[c.ID] = true, true
	}
	if d.PrimaryIndex.ID == 0 || d.PrimaryIndex.ID >= max(d.NextIndexID, PrimaryIndexID+1) {
		return invalidTable("primary index of table %q has id %d (next id %d)", d.Name, d.PrimaryIndex.ID, d.NextIndexID)
	}
	if !d.PrimaryIndex.Public() || d.PrimaryIndex.NewPrimary || d.PrimaryIndex.KeyIndexID != 0 {
		return invalidTable("primary index of table %q is not public", d.Name)
	}
	if len(d.PrimaryIndex.ColumnIDs) == 0 {
		return invalidTable("table %q has no primary key", d.Name)
	}
	indexNames := map[string]bool{}
	indexIDs := map[uint32]bool{}
	for i := -1; i < len(d.Indexes); i++ {
		idx := &d.PrimaryIndex
		if i >= 0 {
			idx = &d.Indexes[i]
			if idx.ID == 0 || idx.ID >= d.NextIndexID || indexIDs[idx.ID] {
				return invalidTable("index %q of table %q has id %d (next id %d, or a repeated id)", idx.Name, d.Name, idx.ID, d.NextIndexID)
			}
		}
		if idx.Name == "" {
			return invalidTable("index %d of table %q has no name", idx.ID, d.Name)
		}
		if indexNames[idx.Name] {
			return sqlerr.Newf(sqlerr.CodeDuplicateTable, "relation %q already exists", idx.Name)
		}
		indexNames[idx.Name], indexIDs[idx.ID] = true, true
		if err := d.validateColumnList("index "+idx.Name, idx.ColumnIDs); err != nil {
			return err
		}
		if len(idx.Descending) != 0 && len(idx.Descending) != len(idx.ColumnIDs) {
			return invalidTable("index %q has %d directions for %d columns", idx.Name, len(idx.Descending), len(idx.ColumnIDs))
		}
		if i >= 0 {
			if err := d.validateIndexState(idx); err != nil {
				return err
			}
		}
	}
	for _, id := range d.PrimaryIndex.ColumnIDs {
		if c := d.ColumnByID(id); c.Nullable {
			return invalidTable("primary key column %q must be NOT NULL", c.Name)
		}
	}
	for _, ch := range d.Checks {
		if ch.Expr == "" {
			return invalidTable("check constraint %q has no expression", ch.Name)
		}
	}
	for _, fk := range d.ForeignKeys {
		if err := d.validateColumnList("foreign key "+fk.Name, fk.ColumnIDs); err != nil {
			return err
		}
		if fk.OnDelete < FKNoAction || fk.OnDelete > FKSetDefault || fk.OnUpdate < FKNoAction || fk.OnUpdate > FKSetDefault {
			return invalidTable("foreign key %q has an unknown action", fk.Name)
		}
		if fk.RefTableID == 0 || len(fk.RefColumnIDs) != len(fk.ColumnIDs) {
			return sqlerr.Newf(sqlerr.CodeInvalidForeignKey, "foreign key %q references %d columns of table %d for %d columns",
				fk.Name, len(fk.RefColumnIDs), fk.RefTableID, len(fk.ColumnIDs))
		}
	}
	switch {
	case d.HashBuckets == 0 && d.HashColumnID == 0:
	case d.HashBuckets < 1 || d.HashBuckets > MaxHashBuckets:
		return invalidTable("the number of hash buckets must be between 1 and %d, not %d", MaxHashBuckets, d.HashBuckets)
	case !slices.Contains(d.PrimaryIndex.ColumnIDs, d.HashColumnID):
		return invalidTable("the hash partitioning column of table %q must be part of its primary key", d.Name)
	}
	return nil
}

// validateIndexState checks the build state of a secondary index.
func (d *TableDescriptor) validateIndexState(idx *Index) error {
	switch idx.State {
	case IndexPublic, IndexWriteOnly:
	default:
		return invalidTable("index %q has unknown state %d", idx.Name, idx.State)
	}
	if (idx.NewPrimary || idx.KeyIndexID != 0) && idx.Public() {
		return invalidTable("index %q rebuilt for a new primary key must be write-only", idx.Name)
	}
	if idx.NewPrimary && (!idx.Unique || idx.KeyIndexID != 0) {
		return invalidTable("new primary index %q must be unique", idx.Name)
	}
	if idx.KeyIndexID != 0 {
		if k := d.IndexByID(idx.KeyIndexID); k == nil || !k.NewPrimary {
			return invalidTable("index %q is keyed by index %d, which is not a new primary index", idx.Name, idx.KeyIndexID)
		}
	}
	return nil
}

func (d *TableDescriptor) validateColumnList(what string, ids []uint32) error {
	if len(ids) == 0 {
		return invalidTable("%s of table %q has no columns", what, d.Name)
	}
	for i, id := range ids {
		if d.ColumnByID(id) == nil {
			return invalidTable("%s of table %q refers to column id %d, which does not exist", what, d.Name, id)
		}
		if slices.Contains(ids[:i], id) {
			return sqlerr.Newf(sqlerr.CodeDuplicateColumn, "column %q appears twice in %s", d.ColumnByID(id).Name, what)
		}
	}
	return nil
}

// NewIndexID returns an index id never used in the table (TRUNCATE gives
// every index a fresh one: the old data is left behind, to be deleted).
func (d *TableDescriptor) NewIndexID() uint32 {
	d.fixNextIDs()
	id := d.NextIndexID
	d.NextIndexID++
	return id
}
