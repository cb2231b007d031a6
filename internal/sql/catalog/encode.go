package catalog

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/sql/catalog/catalogpb"
	"github.com/cairndb/cairn/internal/sql/types"
)

// Descriptors are stored as catalogpb.Descriptor messages: protobuf gives
// forward and backward compatibility for free (a node ignores fields a
// newer node added; a field an older node never wrote reads as zero),
// which a descriptor format must have for rolling upgrades, and it is what
// the rest of the system already uses. Types are stored as PostgreSQL's
// catalog stores them, OID and typmod, which determine a types.Type
// exactly (types.TypeByOid), including arrays of modified element types.

func encodeType(t *types.Type) *catalogpb.ColumnType {
	return &catalogpb.ColumnType{Oid: uint32(t.Oid()), Typmod: t.Typmod()}
}

func decodeType(ct *catalogpb.ColumnType) (*types.Type, error) {
	if ct == nil {
		return nil, fmt.Errorf("catalog: column without a type")
	}
	return types.TypeByOid(types.Oid(ct.Oid), ct.Typmod)
}

func encodeIndex(idx *Index) *catalogpb.Index {
	return &catalogpb.Index{Id: idx.ID, Name: idx.Name, ColumnIds: idx.ColumnIDs, Descending: idx.Descending, Unique: idx.Unique,
		State: catalogpb.IndexState(idx.State), NewPrimary: idx.NewPrimary, KeyIndexId: idx.KeyIndexID}
}

func decodeIndex(p *catalogpb.Index) Index {
	if p == nil {
		return Index{}
	}
	return Index{ID: p.Id, Name: p.Name, ColumnIDs: p.ColumnIds, Descending: p.Descending, Unique: p.Unique,
		State: IndexState(p.State), NewPrimary: p.NewPrimary, KeyIndexID: p.KeyIndexId}
}

func tableToProto(d *TableDescriptor) *catalogpb.TableDescriptor {
	p := &catalogpb.TableDescriptor{
		Id: d.ID, ParentId: d.ParentID, Schema: d.Schema, Name: d.Name,
		PrimaryIndex: encodeIndex(&d.PrimaryIndex),
		NextColumnId: d.NextColumnID, NextIndexId: d.NextIndexID, Version: d.Version,
		HashBuckets: d.HashBuckets, HashColumnId: d.HashColumnID,
		ReferencedBy: d.ReferencedBy,
	}
	for _, c := range d.Columns {
		pc := &catalogpb.Column{
			Id: c.ID, Name: c.Name, Type: encodeType(c.Type), Nullable: c.Nullable,
			DefaultExpr: c.DefaultExpr, Hidden: c.Hidden, SequenceId: c.SequenceID,
		}
		if c.Missing != nil && c.Missing != types.DNull {
			pc.HasMissingValue, pc.MissingValue = true, types.AppendBinary(nil, c.Missing, c.Type)
		}
		p.Columns = append(p.Columns, pc)
	}
	for i := range d.Indexes {
		p.Indexes = append(p.Indexes, encodeIndex(&d.Indexes[i]))
	}
	for _, ch := range d.Checks {
		p.Checks = append(p.Checks, &catalogpb.Check{Name: ch.Name, Expr: ch.Expr})
	}
	for _, fk := range d.ForeignKeys {
		p.ForeignKeys = append(p.ForeignKeys, &catalogpb.ForeignKey{
			Name: fk.Name, ColumnIds: fk.ColumnIDs, RefTableId: fk.RefTableID, RefColumnIds: fk.RefColumnIDs,
			OnDelete: catalogpb.FKAction(fk.OnDelete), OnUpdate: catalogpb.FKAction(fk.OnUpdate), MatchFull: fk.MatchFull,
		})
	}
	return p
}

func tableFromProto(p *catalogpb.TableDescriptor) (*TableDescriptor, error) {
	d := &TableDescriptor{
		ID: p.Id, ParentID: p.ParentId, Schema: p.Schema, Name: p.Name,
		PrimaryIndex: decodeIndex(p.PrimaryIndex),
		NextColumnID: p.NextColumnId, NextIndexID: p.NextIndexId, Version: p.Version,
		HashBuckets: p.HashBuckets, HashColumnID: p.HashColumnId,
		ReferencedBy: p.ReferencedBy,
	}
	for _, c := range p.Columns {
		t, err := decodeType(c.Type)
		if err != nil {
			return nil, fmt.Errorf("catalog: column %q of table %d: %w", c.Name, p.Id, err)
		}
		col := Column{
			ID: c.Id, Name: c.Name, Type: t, Nullable: c.Nullable,
			DefaultExpr: c.DefaultExpr, Hidden: c.Hidden, SequenceID: c.SequenceId,
		}
		if c.HasMissingValue {
			if col.Missing, err = types.ParseBinary(c.MissingValue, t); err != nil {
				return nil, fmt.Errorf("catalog: missing value of column %q of table %d: %w", c.Name, p.Id, err)
			}
		}
		d.Columns = append(d.Columns, col)
	}
	for _, idx := range p.Indexes {
		d.Indexes = append(d.Indexes, decodeIndex(idx))
	}
	for _, ch := range p.Checks {
		d.Checks = append(d.Checks, Check{Name: ch.Name, Expr: ch.Expr})
	}
	for _, fk := range p.ForeignKeys {
		d.ForeignKeys = append(d.ForeignKeys, ForeignKey{
			Name: fk.Name, ColumnIDs: fk.ColumnIds, RefTableID: fk.RefTableId, RefColumnIDs: fk.RefColumnIds,
			OnDelete: FKAction(fk.OnDelete), OnUpdate: FKAction(fk.OnUpdate), MatchFull: fk.MatchFull,
		})
	}
	return d, nil
}

func sequenceToProto(s *SequenceDescriptor) *catalogpb.SequenceDescriptor {
	return &catalogpb.SequenceDescriptor{
		Id: s.ID, ParentId: s.ParentID, Schema: s.Schema, Name: s.Name,
		Start: s.Start, Increment: s.Increment, Min: s.Min, Max: s.Max, Cache: s.Cache,
	}
}

func sequenceFromProto(p *catalogpb.SequenceDescriptor) *SequenceDescriptor {
	return &SequenceDescriptor{
		ID: p.Id, ParentID: p.ParentId, Schema: p.Schema, Name: p.Name,
		Start: p.Start, Increment: p.Increment, Min: p.Min, Max: p.Max, Cache: p.Cache,
	}
}

// EncodeTable returns the stored form of a table descriptor.
func EncodeTable(d *TableDescriptor) ([]byte, error) {
	return proto.Marshal(&catalogpb.Descriptor{Union: &catalogpb.Descriptor_Table{Table: tableToProto(d)}})
}

// EncodeDatabase returns the stored form of a database descriptor.
func EncodeDatabase(d *DatabaseDescriptor) ([]byte, error) {
	return proto.Marshal(&catalogpb.Descriptor{Union: &catalogpb.Descriptor_Database{
		Database: &catalogpb.DatabaseDescriptor{Id: d.ID, Name: d.Name},
	}})
}

// EncodeSequence returns the stored form of a sequence descriptor.
func EncodeSequence(s *SequenceDescriptor) ([]byte, error) {
	return proto.Marshal(&catalogpb.Descriptor{Union: &catalogpb.Descriptor_Sequence{Sequence: sequenceToProto(s)}})
}

// decoded is a stored descriptor of any kind: exactly one field is set.
type decoded struct {
	table    *TableDescriptor
	database *DatabaseDescriptor
	sequence *SequenceDescriptor
}

func (d decoded) kind() string {
	switch {
	case d.table != nil:
		return "table"
	case d.database != nil:
		return "database"
	case d.sequence != nil:
		return "sequence"
	}
	return "nothing"
}

// decodeDescriptor decodes a stored descriptor.
func decodeDescriptor(b []byte) (decoded, error) {
	var p catalogpb.Descriptor
	if err := proto.Unmarshal(b, &p); err != nil {
		return decoded{}, fmt.Errorf("catalog: corrupt descriptor: %w", err)
	}
	switch u := p.Union.(type) {
	case *catalogpb.Descriptor_Table:
		t, err := tableFromProto(u.Table)
		return decoded{table: t}, err
	case *catalogpb.Descriptor_Database:
		return decoded{database: &DatabaseDescriptor{ID: u.Database.Id, Name: u.Database.Name}}, nil
	case *catalogpb.Descriptor_Sequence:
		return decoded{sequence: sequenceFromProto(u.Sequence)}, nil
	}
	return decoded{}, fmt.Errorf("catalog: descriptor of unknown kind %T", p.Union)
}

// DecodeTable decodes a stored table descriptor.
func DecodeTable(b []byte) (*TableDescriptor, error) {
	d, err := decodeDescriptor(b)
	if err != nil {
		return nil, err
	}
	if d.table == nil {
		return nil, fmt.Errorf("catalog: descriptor is a %s, not a table", d.kind())
	}
	return d.table, nil
}
