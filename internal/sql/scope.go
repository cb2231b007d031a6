package sql

import (
	"github.com/cairndb/cairn/internal/sql/catalog"
	"github.com/cairndb/cairn/internal/sql/sem"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// tableScope resolves column names against one table's rows, which are
// laid out as desc.Columns (hidden columns included).
type tableScope struct {
	desc  *catalog.TableDescriptor
	alias string // the name the query uses for the table
}

var _ sem.Scope = (*tableScope)(nil)

func (s *tableScope) ResolveColumn(qualifier []string, name string) (int, *types.Type, error) {
	if s == nil || s.desc == nil {
		return 0, nil, sqlerr.Newf(sqlerr.CodeUndefinedColumn, "column %q does not exist", name)
	}
	if err := s.checkQualifier(qualifier); err != nil {
		return 0, nil, err
	}
	for i, c := range s.desc.Columns {
		if c.Name == name {
			return i, c.Type, nil
		}
	}
	if len(qualifier) > 0 {
		return 0, nil, sqlerr.Newf(sqlerr.CodeUndefinedColumn, "column %s.%s does not exist", qualifier[len(qualifier)-1], name)
	}
	return 0, nil, sqlerr.Newf(sqlerr.CodeUndefinedColumn, "column %q does not exist", name)
}

// checkQualifier checks that a column's qualifier names the table.
func (s *tableScope) checkQualifier(qualifier []string) error {
	n := len(qualifier)
	if n == 0 {
		return nil
	}
	if qualifier[n-1] != s.alias || (n >= 2 && (s.alias != s.desc.Name || qualifier[n-2] != s.desc.Schema)) {
		e := &rangeEntry{alias: s.alias, aliased: s.alias != s.desc.Name, desc: s.desc}
		return missingEntry(qualifier[n-1], []*rangeEntry{e}, nil)
	}
	return nil
}
