package sql

import (
	"context"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// planVacuum accepts VACUUM and ANALYZE as no-ops once their tables are
// found: MVCC garbage collection runs in the background (gc_ttl) and the
// planner keeps no statistics yet. Tools such as pgbench issue them.
func (s *session) planVacuum(v *pg_query.VacuumStmt) (*planned, error) {
	tag := "ANALYZE"
	if v.IsVacuumcmd {
		tag = "VACUUM"
	}
	return ddlPlan(tag, func(ctx context.Context, x *execCtx) error {
		for _, r := range v.Rels {
			if rv := r.GetVacuumRelation().GetRelation(); rv != nil {
				if _, err := x.table(ctx, rv, false); err != nil {
					return err
				}
			}
		}
		return nil
	}), nil
}
