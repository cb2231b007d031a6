package sql

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/cairndb/cairn/internal/sql/catalog"
	"github.com/cairndb/cairn/internal/sql/sem"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// seqOps serves nextval, currval and setval (sem.SequenceOps) for one
// statement: sequences are resolved in the statement's transaction, values
// come from the node's catalog.Sequences, and the session remembers the
// last value of each sequence for currval.
type seqOps struct{ x *execCtx }

var _ sem.SequenceOps = seqOps{}

// sequence resolves a sequence name as regclass input does: 'name',
// 'schema.name', quoted parts keep their case, unquoted ones are folded.
func (o seqOps) sequence(ctx context.Context, text string) (*catalog.SequenceDescriptor, error) {
	if id, err := strconv.ParseUint(text, 10, 32); err == nil {
		// An oid (regclass input accepts them; 's'::regclass is one).
		seq, err := catalog.GetSequenceByID(ctx, o.x.txn, uint32(id))
		if err != nil {
			return nil, err
		}
		if seq == nil {
			return nil, sqlerr.Newf(sqlerr.CodeUndefinedTable, "could not open relation with OID %d", id)
		}
		return seq, nil
	}
	parts, err := splitQualifiedName(text)
	if err != nil {
		return nil, err
	}
	rv := &pg_query.RangeVar{Relname: parts[len(parts)-1]}
	switch len(parts) {
	case 1:
	case 2:
		rv.Schemaname = parts[0]
	case 3:
		rv.Catalogname, rv.Schemaname = parts[0], parts[1]
	default:
		return nil, sqlerr.Newf(sqlerr.CodeSyntaxError, "improper relation name (too many dotted names): %s", text)
	}
	schema, name, err := relationName(rv)
	if err != nil {
		return nil, err
	}
	db, err := o.x.database(ctx)
	if err != nil {
		return nil, err
	}
	seq, err := catalog.GetSequence(ctx, o.x.txn, db.ID, schema, name)
	if err != nil {
		return nil, err
	}
	if seq == nil {
		return nil, sqlerr.Newf(sqlerr.CodeUndefinedTable, "relation %q does not exist", name)
	}
	return seq, nil
}

// splitQualifiedName splits a possibly qualified, possibly quoted name.
func splitQualifiedName(s string) ([]string, error) {
	var parts []string
	s = strings.TrimSpace(s)
	for {
		var part string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(s); i++ {
				if s[i] == '"' {
					if i+1 < len(s) && s[i+1] == '"' {
						b.WriteByte('"')
						i++
						continue
					}
					break
				}
				b.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, sqlerr.Newf(sqlerr.CodeInvalidTextRepresentation, "invalid name syntax")
			}
			part, s = b.String(), s[i+1:]
		} else {
			end := strings.IndexByte(s, '.')
			if end < 0 {
				end = len(s)
			}
			part, s = strings.ToLower(strings.TrimSpace(s[:end])), s[end:]
		}
		if part == "" {
			return nil, sqlerr.Newf(sqlerr.CodeInvalidTextRepresentation, "invalid name syntax")
		}
		parts = append(parts, part)
		s = strings.TrimSpace(s)
		if s == "" {
			return parts, nil
		}
		if s[0] != '.' {
			return nil, sqlerr.Newf(sqlerr.CodeInvalidTextRepresentation, "invalid name syntax")
		}
		s = strings.TrimSpace(s[1:])
	}
}

func (o seqOps) NextVal(ctx context.Context, name string) (int64, error) {
	seq, err := o.sequence(ctx, name)
	if err != nil {
		return 0, err
	}
	return o.x.nextVal(ctx, seq)
}

func (o seqOps) CurrVal(ctx context.Context, name string) (int64, error) {
	seq, err := o.sequence(ctx, name)
	if err != nil {
		return 0, err
	}
	v, ok := o.x.sess.seqLast[seq.ID]
	if !ok {
		return 0, sqlerr.Newf(sqlerr.CodeObjectNotInPrerequisiteState,
			"currval of sequence %q is not yet defined in this session", seq.Name)
	}
	return v, nil
}

func (o seqOps) SetVal(ctx context.Context, name string, v int64, isCalled bool) (int64, error) {
	seq, err := o.sequence(ctx, name)
	if err != nil {
		return 0, err
	}
	if err := o.x.sess.srv.sequences.SetVal(ctx, seq, v, isCalled); err != nil {
		return 0, err
	}
	if isCalled {
		o.x.sess.setLastVal(seq.ID, v)
	}
	return v, nil
}

// nextVal draws the next value of seq and remembers it for currval.
func (x *execCtx) nextVal(ctx context.Context, seq *catalog.SequenceDescriptor) (int64, error) {
	v, err := x.sess.srv.sequences.NextVal(ctx, seq)
	if err != nil {
		return 0, err
	}
	x.sess.setLastVal(seq.ID, v)
	return v, nil
}

func (s *session) setLastVal(id uint32, v int64) {
	if s.seqLast == nil {
		s.seqLast = map[uint32]int64{}
	}
	s.seqLast[id] = v
}

func (s *session) planCreateSequence(cs *pg_query.CreateSeqStmt) (*planned, error) {
	schema, name, err := relationName(cs.Sequence)
	if err != nil {
		return nil, err
	}
	if cs.Sequence.Relpersistence == "t" {
		return nil, sqlerr.Unsupportedf("temporary sequences are not supported")
	}
	seq, err := sequenceFromOptions(schema, name, cs.Options)
	if err != nil {
		return nil, err
	}
	return ddlPlan("CREATE SEQUENCE", func(ctx context.Context, x *execCtx) error {
		db, err := x.database(ctx)
		if err != nil {
			return err
		}
		if cs.IfNotExists {
			exists, err := relationExists(ctx, x.txn, db.ID, schema, name)
			if err != nil {
				return err
			}
			if exists {
				_ = x.notice(sqlerr.New("42P07", fmt.Sprintf("relation %q already exists, skipping", name)))
				return nil
			}
		}
		s := *seq
		return catalog.CreateSequence(ctx, x.txn, db, &s)
	}), nil
}

// sequenceFromOptions builds a sequence from CREATE SEQUENCE's options,
// with PostgreSQL's defaults: MINVALUE/MAXVALUE bound the type (bigint
// unless AS says otherwise) on the side the sequence moves away from, 1
// (or -1) on the other; START defaults to MINVALUE (MAXVALUE descending).
func sequenceFromOptions(schema, name string, opts []*pg_query.Node) (*catalog.SequenceDescriptor, error) {
	inc := int64(1)
	typMin, typMax := int64(math.MinInt64), int64(math.MaxInt64)
	var start, minv, maxv, cache *int64
	seen := map[string]bool{}
	for _, n := range opts {
		de := n.GetDefElem()
		if de == nil {
			continue
		}
		if seen[de.Defname] {
			return nil, sqlerr.New(sqlerr.CodeSyntaxError, "conflicting or redundant options")
		}
		seen[de.Defname] = true
		switch de.Defname {
		case "increment", "start", "minvalue", "maxvalue", "cache":
			if de.Arg == nil {
				// NO MINVALUE / NO MAXVALUE: the default.
				if de.Defname == "minvalue" || de.Defname == "maxvalue" {
					continue
				}
				return nil, sqlerr.Newf(sqlerr.CodeSyntaxError, "%s requires a numeric value", de.Defname)
			}
			v, err := int8Arg(de)
			if err != nil {
				return nil, err
			}
			switch de.Defname {
			case "increment":
				inc = v
			case "start":
				start = &v
			case "minvalue":
				minv = &v
			case "maxvalue":
				maxv = &v
			case "cache":
				cache = &v
			}
		case "as":
			t, err := sem.ResolveTypeName(de.Arg.GetTypeName())
			if err != nil {
				return nil, err
			}
			switch t.Oid() {
			case types.Int2.Oid():
				typMin, typMax = math.MinInt16, math.MaxInt16
			case types.Int4.Oid():
				typMin, typMax = math.MinInt32, math.MaxInt32
			case types.Int8.Oid():
			default:
				return nil, sqlerr.New(sqlerr.CodeInvalidParameterValue, "sequence type must be smallint, integer, or bigint")
			}
		case "cycle":
			if b := de.Arg.GetBoolean(); de.Arg == nil || (b != nil && b.Boolval) || de.Arg.GetInteger().GetIval() != 0 {
				return nil, sqlerr.Unsupportedf("CYCLE sequences are not supported yet")
			}
		case "owned_by":
			items := de.Arg.GetList().GetItems()
			if len(items) != 1 || items[0].GetString_().GetSval() != "none" {
				return nil, sqlerr.Unsupportedf("OWNED BY is not supported yet")
			}
		default:
			return nil, sqlerr.Unsupportedf("sequence option %s is not supported", de.Defname)
		}
	}
	seq := catalog.NewSequenceDescriptor(schema, name, inc)
	if inc > 0 {
		seq.Min, seq.Max = 1, typMax
	} else if inc < 0 {
		seq.Min, seq.Max = typMin, -1
	}
	if minv != nil {
		seq.Min = *minv
	}
	if maxv != nil {
		seq.Max = *maxv
	}
	if minv != nil && *minv < typMin || maxv != nil && *maxv > typMax {
		return nil, sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "MINVALUE or MAXVALUE out of range for the sequence's data type")
	}
	if inc > 0 {
		seq.Start = seq.Min
	} else {
		seq.Start = seq.Max
	}
	if start != nil {
		seq.Start = *start
	}
	if cache != nil {
		seq.Cache = *cache
	}
	if err := seq.Validate(); err != nil {
		return nil, err
	}
	return seq, nil
}

// int8Arg reads an integer option (Integer, or Float for values beyond
// int4, or a numeric string).
func int8Arg(de *pg_query.DefElem) (int64, error) {
	switch {
	case de.Arg.GetInteger() != nil:
		return int64(de.Arg.GetInteger().GetIval()), nil
	case de.Arg.GetFloat() != nil:
		if v, err := strconv.ParseInt(de.Arg.GetFloat().GetFval(), 10, 64); err == nil {
			return v, nil
		}
	case de.Arg.GetString_() != nil:
		if v, err := strconv.ParseInt(de.Arg.GetString_().GetSval(), 10, 64); err == nil {
			return v, nil
		}
	}
	return 0, sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "%s requires an integer value", de.Defname)
}

// dropSequences runs DROP SEQUENCE.
func (x *execCtx) dropSequences(ctx context.Context, ds *pg_query.DropStmt) error {
	cascade := ds.Behavior == pg_query.DropBehavior_DROP_CASCADE
	db, err := x.database(ctx)
	if err != nil {
		return err
	}
	for _, obj := range ds.Objects {
		rv, err := dropObjectName(obj)
		if err != nil {
			return err
		}
		schema, name, err := relationName(rv)
		if err != nil {
			return err
		}
		seq, err := catalog.GetSequence(ctx, x.txn, db.ID, schema, name)
		if err != nil {
			return err
		}
		if seq == nil {
			if ds.MissingOk {
				_ = x.notice(sqlerr.New("00000", fmt.Sprintf("sequence %q does not exist, skipping", name)))
				continue
			}
			return sqlerr.Newf(sqlerr.CodeUndefinedTable, "sequence %q does not exist", name)
		}
		if err := catalog.DropSequence(ctx, x.txn, seq, cascade); err != nil {
			return err
		}
		id := seq.ID
		x.sess.afterCommit(func(context.Context) {
			x.sess.srv.sequences.Forget(id)
			delete(x.sess.seqLast, id)
		})
	}
	return nil
}

// dropObjectName reads a DROP statement's object name.
func dropObjectName(obj *pg_query.Node) (*pg_query.RangeVar, error) {
	items := obj.GetList().GetItems()
	rv := &pg_query.RangeVar{}
	switch len(items) {
	case 1:
		rv.Relname = items[0].GetString_().GetSval()
	case 2:
		rv.Schemaname, rv.Relname = items[0].GetString_().GetSval(), items[1].GetString_().GetSval()
	default:
		return nil, sqlerr.Unsupportedf("cross-database references are not implemented")
	}
	return rv, nil
}
