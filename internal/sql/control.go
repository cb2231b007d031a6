package sql

import (
	"context"
	"fmt"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/sql/parser"
	"github.com/cairndb/cairn/internal/sql/pgwire"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// control runs the statements the session handles itself: transaction
// control and SET. handled is false for every other statement.
func (s *session) control(ctx context.Context, stmt *parser.Statement, sink pgwire.ResultSink) (handled bool, err error) {
	switch n := stmt.AST.Node.(type) {
	case *pg_query.Node_TransactionStmt:
		tag, err := s.transactionStmt(ctx, n.TransactionStmt, sink)
		if err != nil {
			return true, err
		}
		return true, sink.Complete(tag)
	case *pg_query.Node_VariableSetStmt:
		if s.state == failedTxn {
			return true, errInFailedTxn
		}
		if err := s.setStmt(n.VariableSetStmt, sink); err != nil {
			return true, err
		}
		tag := "SET"
		if k := n.VariableSetStmt.Kind; k == pg_query.VariableSetKind_VAR_RESET || k == pg_query.VariableSetKind_VAR_RESET_ALL {
			tag = "RESET"
		}
		return true, sink.Complete(tag)
	}
	return false, nil
}

func (s *session) transactionStmt(ctx context.Context, t *pg_query.TransactionStmt, sink pgwire.ResultSink) (string, error) {
	switch t.Kind {
	case pg_query.TransactionStmtKind_TRANS_STMT_BEGIN, pg_query.TransactionStmtKind_TRANS_STMT_START:
		if s.state == explicitTxn || s.state == failedTxn {
			_ = sink.Notice(&pgwire.Error{Severity: "WARNING", Code: "25001", Message: "there is already a transaction in progress"})
			return "BEGIN", nil
		}
		iso := s.isolation()
		if err := applyTxnOptions(t.Options, &iso); err != nil {
			return "", err
		}
		if s.state == implicitTxn && s.txn != nil {
			// BEGIN inside an extended-protocol batch continues its
			// implicit transaction as an explicit one.
			s.state = explicitTxn
			return "BEGIN", nil
		}
		s.state, s.txnIso = explicitTxn, iso
		return "BEGIN", nil
	case pg_query.TransactionStmtKind_TRANS_STMT_SAVEPOINT,
		pg_query.TransactionStmtKind_TRANS_STMT_RELEASE,
		pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK_TO:
		return s.savepointStmt(ctx, t)
	case pg_query.TransactionStmtKind_TRANS_STMT_COMMIT:
		switch s.state {
		case implicitTxn, explicitTxn:
			// In a multi-statement query COMMIT ends its implicit
			// transaction.
			return "COMMIT", s.commitBlock(ctx)
		case failedTxn:
			_ = s.finishTxn(ctx, false)
			s.state = noTxn
			return "ROLLBACK", nil
		}
		_ = sink.Notice(&pgwire.Error{Severity: "WARNING", Code: "25P01", Message: "there is no transaction in progress"})
		return "COMMIT", nil
	case pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK:
		if s.state == noTxn {
			_ = sink.Notice(&pgwire.Error{Severity: "WARNING", Code: "25P01", Message: "there is no transaction in progress"})
		}
		_ = s.finishTxn(ctx, false)
		s.state = noTxn
		return "ROLLBACK", nil
	}
	return "", sqlerr.Unsupportedf("%s is not supported yet", strings.TrimPrefix(t.Kind.String(), "TRANS_STMT_"))
}

// commitBlock commits the session's transaction block and runs what waits
// for the commit.
func (s *session) commitBlock(ctx context.Context) error {
	err := s.finishTxn(ctx, true)
	s.state = noTxn
	return err
}

// applyTxnOptions reads BEGIN / SET TRANSACTION options.
func applyTxnOptions(opts []*pg_query.Node, iso *kvpb.IsolationLevel) error {
	for _, o := range opts {
		de := o.GetDefElem()
		if de == nil {
			continue
		}
		val := constString(de.Arg)
		switch de.Defname {
		case "transaction_isolation":
			v, err := isolationValue(val)
			if err != nil {
				return err
			}
			*iso = isolationLevel(v)
		case "transaction_read_only":
			if val == "true" || val == "1" || val == "on" {
				return sqlerr.Unsupportedf("read-only transactions are not supported yet")
			}
		case "transaction_deferrable":
		default:
			return sqlerr.Unsupportedf("transaction option %s is not supported", de.Defname)
		}
	}
	return nil
}

// constString renders a constant argument of SET or a DefElem.
func constString(n *pg_query.Node) string {
	if n == nil {
		return ""
	}
	switch v := n.Node.(type) {
	case *pg_query.Node_AConst:
		switch c := v.AConst.Val.(type) {
		case *pg_query.A_Const_Sval:
			return c.Sval.Sval
		case *pg_query.A_Const_Ival:
			return fmt.Sprint(c.Ival.Ival)
		case *pg_query.A_Const_Fval:
			return c.Fval.Fval
		case *pg_query.A_Const_Boolval:
			if c.Boolval.Boolval {
				return "true"
			}
			return "false"
		}
	case *pg_query.Node_String_:
		return v.String_.Sval
	case *pg_query.Node_Integer:
		return fmt.Sprint(v.Integer.Ival)
	case *pg_query.Node_TypeCast:
		return constString(v.TypeCast.Arg)
	}
	return ""
}

func (s *session) setStmt(v *pg_query.VariableSetStmt, sink pgwire.ResultSink) error {
	switch v.Kind {
	case pg_query.VariableSetKind_VAR_SET_MULTI:
		if v.Name == "TRANSACTION" || v.Name == "SESSION CHARACTERISTICS" {
			iso := s.txnIso
			if v.Name != "TRANSACTION" {
				iso = s.isolation()
			}
			if err := applyTxnOptions(v.Args, &iso); err != nil {
				return err
			}
			if v.Name == "TRANSACTION" {
				if s.txn != nil && iso != s.txn.Isolation() {
					return sqlerr.New("25001", "SET TRANSACTION ISOLATION LEVEL must be called before any query")
				}
				s.txnIso = iso
				return nil
			}
			return s.vars.set("default_transaction_isolation", isolationName(iso))
		}
		return sqlerr.Unsupportedf("SET %s is not supported", v.Name)
	case pg_query.VariableSetKind_VAR_RESET_ALL:
		for name, sv := range sessionVars {
			if !sv.readOnly {
				_ = s.vars.reset(name)
			}
		}
		return nil
	case pg_query.VariableSetKind_VAR_RESET, pg_query.VariableSetKind_VAR_SET_DEFAULT:
		if err := s.vars.reset(v.Name); err != nil {
			return err
		}
	case pg_query.VariableSetKind_VAR_SET_VALUE:
		name := strings.ToLower(v.Name)
		if name == "transaction_isolation" {
			iso := s.txnIso
			if err := applyTxnOptions([]*pg_query.Node{{Node: &pg_query.Node_DefElem{DefElem: &pg_query.DefElem{
				Defname: "transaction_isolation", Arg: firstArg(v.Args)}}}}, &iso); err != nil {
				return err
			}
			s.txnIso = iso
			return nil
		}
		parts := make([]string, len(v.Args))
		for i, a := range v.Args {
			parts[i] = constString(a)
		}
		if err := s.vars.set(name, strings.Join(parts, ", ")); err != nil {
			return err
		}
	default:
		return sqlerr.Unsupportedf("this form of SET is not supported")
	}
	name := strings.ToLower(v.Name)
	if sessionVars[name].reported {
		val, _ := s.vars.get(name)
		return sink.ParameterStatus(reportedName(name), val)
	}
	return nil
}

func firstArg(args []*pg_query.Node) *pg_query.Node {
	if len(args) == 0 {
		return nil
	}
	return args[0]
}

func isolationName(iso kvpb.IsolationLevel) string {
	switch iso {
	case kvpb.IsolationLevel_REPEATABLE_READ:
		return "repeatable read"
	case kvpb.IsolationLevel_READ_COMMITTED:
		return "read committed"
	}
	return "serializable"
}

// planShow plans SHOW name / SHOW ALL / SHOW TRANSACTION ISOLATION LEVEL.
func (s *session) planShow(v *pg_query.VariableShowStmt) (*planned, error) {
	name := strings.ToLower(v.Name)
	text := types.Text
	if name == "all" {
		return &planned{
			cols: []resultCol{{name: "name", typ: text}, {name: "setting", typ: text}},
			open: func(context.Context, *execCtx) (rowIter, error) {
				var rows [][]types.Datum
				for _, kv := range s.vars.all() {
					rows = append(rows, []types.Datum{types.DString(kv[0]), types.DString(kv[1])})
				}
				return &sliceIter{rows: rows}, nil
			},
			tag: constTag("SHOW"),
		}, nil
	}
	if name == "transaction_isolation" || name == "transaction isolation level" {
		return &planned{
			cols: []resultCol{{name: "transaction_isolation", typ: text}},
			open: func(context.Context, *execCtx) (rowIter, error) {
				iso := s.isolation()
				if s.state == explicitTxn || s.state == failedTxn {
					iso = s.txnIso
				}
				return &sliceIter{rows: [][]types.Datum{{types.DString(isolationName(iso))}}}, nil
			},
			tag: constTag("SHOW"),
		}, nil
	}
	if _, err := s.vars.get(name); err != nil {
		return nil, err
	}
	return &planned{
		cols: []resultCol{{name: name, typ: text}},
		open: func(context.Context, *execCtx) (rowIter, error) {
			val, err := s.vars.get(name)
			if err != nil {
				return nil, err
			}
			return &sliceIter{rows: [][]types.Datum{{types.DString(val)}}}, nil
		},
		tag: constTag("SHOW"),
	}, nil
}

// savepointStmt runs SAVEPOINT, RELEASE [SAVEPOINT] and ROLLBACK TO
// [SAVEPOINT] in an explicit transaction.
func (s *session) savepointStmt(ctx context.Context, t *pg_query.TransactionStmt) (string, error) {
	if s.state != explicitTxn && s.state != failedTxn {
		return "", sqlerr.Newf("25P01", "%s can only be used in transaction blocks", savepointVerb(t.Kind))
	}
	name := t.SavepointName
	find := func() int {
		for i := len(s.savepoints) - 1; i >= 0; i-- {
			if s.savepoints[i].name == name {
				return i
			}
		}
		return -1
	}
	switch t.Kind {
	case pg_query.TransactionStmtKind_TRANS_STMT_SAVEPOINT:
		if s.state == failedTxn {
			return "", errInFailedTxn
		}
		txn, err := s.ensureTxn(ctx)
		if err != nil {
			return "", err
		}
		s.savepoints = append(s.savepoints, namedSavepoint{name: name, sp: txn.Savepoint(), afterCommit: len(s.afterCommitFns)})
		return "SAVEPOINT", nil
	case pg_query.TransactionStmtKind_TRANS_STMT_RELEASE:
		if s.state == failedTxn {
			return "", errInFailedTxn
		}
		i := find()
		if i < 0 {
			return "", sqlerr.Newf("3B001", "savepoint %q does not exist", name)
		}
		s.savepoints = s.savepoints[:i]
		return "RELEASE", nil
	}
	// ROLLBACK TO: undo the writes since the savepoint, keep the savepoint,
	// and leave a failed block usable again.
	i := find()
	if i < 0 {
		return "", sqlerr.Newf("3B001", "savepoint %q does not exist", name)
	}
	if s.txn != nil {
		if err := s.txn.RollbackToSavepoint(s.savepoints[i].sp); err != nil {
			return "", err
		}
	}
	// Work registered since the savepoint (a DROP's data cleanup) is undone
	// with it.
	s.afterCommitFns = s.afterCommitFns[:s.savepoints[i].afterCommit]
	s.savepoints = s.savepoints[:i+1]
	s.state = explicitTxn
	return "ROLLBACK", nil
}

func savepointVerb(k pg_query.TransactionStmtKind) string {
	switch k {
	case pg_query.TransactionStmtKind_TRANS_STMT_RELEASE:
		return "RELEASE SAVEPOINT"
	case pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK_TO:
		return "ROLLBACK TO SAVEPOINT"
	}
	return "SAVEPOINT"
}
