package sem

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// Expr is a typed scalar expression, built by a Builder from a parse tree.
// An Expr is immutable once built and may be evaluated concurrently by
// several goroutines, each with its own EvalContext.
type Expr interface {
	// Type returns the type of the values Eval returns (DNull aside).
	Type() *types.Type
	// Eval computes the value for one input row. row is read, never
	// written or kept. Errors are *sqlerr.Error with PostgreSQL's codes.
	Eval(ctx *EvalContext, row []types.Datum) (types.Datum, error)
	// String returns the expression as EXPLAIN shows it, in PostgreSQL's
	// deparsed style: "((a + 1) > 5)", "lower(name)".
	String() string
}

// Parent is implemented by expressions with sub-expressions, so that Walk,
// Rewrite and ConstFold can reach them. Expressions defined outside this
// package (a planner's aggregate or subquery references) need not
// implement it: they are leaves to this package.
type Parent interface {
	Expr
	// Children returns the sub-expressions in evaluation order. The
	// caller must not modify the returned slice.
	Children() []Expr
	// WithChildren returns a copy of the expression with its children
	// replaced by children (same length and order as Children).
	WithChildren(children []Expr) Expr
}

// Volatility says when an expression's value may change, as PostgreSQL's
// provolatile: it decides what ConstFold may evaluate ahead of time and
// what may serve as an index bound.
type Volatility uint8

// The volatilities, from the most to the least foldable.
const (
	// Immutable: the same inputs give the same value, always.
	Immutable Volatility = iota
	// Stable: the same within one statement (now(), current_user, casts
	// that read the session's TimeZone).
	Stable
	// Volatile: may change at each evaluation (random(), clock_timestamp()).
	Volatile
)

// VolatilityOf is implemented by expressions whose own volatility (not
// counting their children) is not Immutable. An expression from outside the
// package that does not implement it counts as Volatile.
type VolatilityOf interface {
	Volatility() Volatility
}

// EvalContext is what evaluation reads besides the row: the statement's
// parameters, clock and session. One EvalContext serves one goroutine.
type EvalContext struct {
	// Ctx, if not nil, cancels long evaluations (huge strings, regular
	// expressions over long texts): they fail with 57014.
	Ctx context.Context
	// Params are the values of $1, $2, ... already of the types the
	// Builder inferred (ParamTypes).
	Params []types.Datum
	// TxnTimestamp is the transaction's start: now(), current_timestamp,
	// transaction_timestamp(), current_date.
	TxnTimestamp time.Time
	// StmtTimestamp is the statement's start, for statement_timestamp();
	// zero means TxnTimestamp.
	StmtTimestamp time.Time
	// Clock returns the wall clock for clock_timestamp(); nil means
	// time.Now.
	Clock func() time.Time
	// Settings are the session's TimeZone etc. for casts and timestamptz
	// arithmetic; nil means the defaults (UTC).
	Settings *types.Settings
	// Session describes the session for current_user, version() and the
	// like; nil gives empty values.
	Session *SessionInfo
	// Sequences serves nextval, currval and setval; nil makes them fail
	// with 0A000.
	Sequences SequenceOps
	// Catalog serves the system catalog functions (pg_get_indexdef,
	// 'name'::regclass); nil makes them return NULL.
	Catalog CatalogAccess
}

// SessionInfo is what the system information functions report.
type SessionInfo struct {
	Database    string // current_database(), current_catalog
	User        string // current_user, user, current_role
	SessionUser string // session_user; "" means User
	// SearchPath is the schema search path; current_schema() is its first
	// element ("public" when empty).
	SearchPath []string
	// Version is version()'s text, e.g. "PostgreSQL 16.0 (cairn 0.1)".
	Version string
}

func (c *EvalContext) session() *SessionInfo {
	if c == nil || c.Session == nil {
		return &SessionInfo{}
	}
	return c.Session
}

func (c *EvalContext) settings() *types.Settings {
	if c == nil {
		return nil
	}
	return c.Settings
}

func (c *EvalContext) location() *time.Location {
	if s := c.settings(); s != nil && s.Location != nil {
		return s.Location
	}
	return time.UTC
}

func (c *EvalContext) txnTime() time.Time {
	if c == nil || c.TxnTimestamp.IsZero() {
		return time.Now()
	}
	return c.TxnTimestamp
}

func (c *EvalContext) stmtTime() time.Time {
	if c == nil || c.StmtTimestamp.IsZero() {
		return c.txnTime()
	}
	return c.StmtTimestamp
}

func (c *EvalContext) clock() time.Time {
	if c == nil || c.Clock == nil {
		return time.Now()
	}
	return c.Clock()
}

// checkCancel returns 57014 if the evaluation's context is done.
func (c *EvalContext) checkCancel() error {
	if c == nil || c.Ctx == nil {
		return nil
	}
	if c.Ctx.Err() != nil {
		return sqlerr.New(sqlerr.CodeQueryCanceled, "canceling statement due to user request")
	}
	return nil
}

// Const is a constant of type Typ. Datum is DNull or of Typ's family.
type Const struct {
	Datum types.Datum
	Typ   *types.Type
}

// NewConst returns a constant of type t.
func NewConst(d types.Datum, t *types.Type) *Const { return &Const{Datum: d, Typ: t} }

// Type implements Expr.
func (c *Const) Type() *types.Type { return c.Typ }

// Eval implements Expr.
func (c *Const) Eval(*EvalContext, []types.Datum) (types.Datum, error) { return c.Datum, nil }

// String prints the constant as PostgreSQL's deparser does: numbers and
// booleans bare, other values quoted with their type, NULL with its type.
func (c *Const) String() string {
	if c.Datum == types.DNull {
		if c.Typ.Family() == types.UnknownFamily {
			return "NULL"
		}
		return "NULL::" + c.Typ.Name()
	}
	switch c.Typ.Family() {
	case types.IntFamily:
		s := types.FormatText(c.Datum, c.Typ, nil)
		if c.Typ.Oid() != types.OidInt4 {
			return s + "::" + c.Typ.Name()
		}
		if strings.HasPrefix(s, "-") {
			return "'" + s + "'::integer"
		}
		return s
	case types.NumericFamily:
		s := types.FormatText(c.Datum, c.Typ, nil)
		if strings.HasPrefix(s, "-") || !isPlainNumber(s) {
			return quoteLiteral(s) + "::numeric"
		}
		return s
	case types.BoolFamily:
		if c.Datum == types.DTrue {
			return "true"
		}
		return "false"
	case types.UnknownFamily:
		return quoteLiteral(types.FormatText(c.Datum, nil, nil))
	}
	return quoteLiteral(types.FormatText(c.Datum, c.Typ, nil)) + "::" + c.Typ.Name()
}

func isPlainNumber(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '.' {
			return false
		}
	}
	return s != ""
}

// quoteLiteral quotes s as a SQL string literal.
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// quoteIdent quotes an identifier when PostgreSQL would need it.
func quoteIdent(s string) string {
	ok := s != ""
	for i := 0; i < len(s) && ok; i++ {
		c := s[i]
		ok = c == '_' || (c >= 'a' && c <= 'z') || (i > 0 && (c >= '0' && c <= '9' || c == '$'))
	}
	if ok {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// ColumnRef reads column Idx of the input row.
type ColumnRef struct {
	Idx int
	Typ *types.Type
	// Name is the column's name as written (qualified or not), for String.
	Name string
}

// Type implements Expr.
func (c *ColumnRef) Type() *types.Type { return c.Typ }

// Eval implements Expr. A row too short for Idx is a planner bug.
func (c *ColumnRef) Eval(_ *EvalContext, row []types.Datum) (types.Datum, error) {
	if c.Idx >= len(row) {
		return nil, sqlerr.Internalf("column %s (#%d) not in a row of %d columns", c.Name, c.Idx, len(row))
	}
	return row[c.Idx], nil
}

// String implements Expr.
func (c *ColumnRef) String() string {
	if c.Name == "" {
		return "#" + strconv.Itoa(c.Idx)
	}
	return c.Name
}

// Param is a statement parameter: $(Idx+1).
type Param struct {
	Idx int // 0-based
	Typ *types.Type
}

// Type implements Expr.
func (p *Param) Type() *types.Type { return p.Typ }

// Volatility implements VolatilityOf: a parameter is fixed for one
// execution.
func (p *Param) Volatility() Volatility { return Stable }

// Eval implements Expr. A parameter value of another type than Typ (text
// from a session that did not convert it) is converted.
func (p *Param) Eval(ctx *EvalContext, _ []types.Datum) (types.Datum, error) {
	if ctx == nil || p.Idx >= len(ctx.Params) {
		return nil, sqlerr.Newf("08P01", "there is no parameter $%d", p.Idx+1)
	}
	d := ctx.Params[p.Idx]
	if d == types.DNull || p.Typ.Family() == types.UnknownFamily || d.ResolvedType().Family() == p.Typ.Family() {
		return d, nil
	}
	// A value of another type (a session that did not convert, or gave
	// text): convert it as an explicit cast would, so that operators see
	// the type they were resolved for.
	if s, ok := d.(types.DString); ok {
		return types.ParseText(string(s), p.Typ, ctx.settings())
	}
	return types.Caster{Context: types.CoercionExplicit, Settings: ctx.settings()}.Cast(d, nil, p.Typ)
}

// String implements Expr.
func (p *Param) String() string { return "$" + strconv.Itoa(p.Idx+1) }

// Walk calls fn for e and, while fn returns true, for its descendants,
// depth first.
func Walk(e Expr, fn func(Expr) bool) {
	if !fn(e) {
		return
	}
	if p, ok := e.(Parent); ok {
		for _, c := range p.Children() {
			Walk(c, fn)
		}
	}
}

// Rewrite returns e with every sub-expression x replaced by fn(x), bottom
// up: fn sees a node whose children are already rewritten. fn returns its
// argument to keep it. Nodes are copied only where something changed.
func Rewrite(e Expr, fn func(Expr) Expr) Expr {
	if p, ok := e.(Parent); ok {
		kids := p.Children()
		var out []Expr
		for i, c := range kids {
			n := Rewrite(c, fn)
			if n != c && out == nil {
				out = append(make([]Expr, 0, len(kids)), kids[:i]...)
			}
			if out != nil {
				out = append(out, n)
			}
		}
		if out != nil {
			e = p.WithChildren(out)
		}
	}
	return fn(e)
}

// MaxVolatility returns the volatility of e with its sub-expressions: the
// highest among them.
func MaxVolatility(e Expr) Volatility {
	v := Immutable
	Walk(e, func(x Expr) bool {
		switch x := x.(type) {
		case *Const, *ColumnRef:
		case VolatilityOf:
			v = max(v, x.Volatility())
		default:
			if _, ok := x.(Parent); !ok {
				v = Volatile
			} else if !isOwnPackageNode(x) {
				v = Volatile
			}
		}
		return v != Volatile
	})
	return v
}

// ReferencesColumns reports whether e reads the input row.
func ReferencesColumns(e Expr) bool {
	found := false
	Walk(e, func(x Expr) bool {
		switch x.(type) {
		case *ColumnRef:
			found = true
		case *Const, *Param, ReadsNoRow:
		default:
			if !isOwnPackageNode(x) {
				found = true // a foreign node may read the row
			}
		}
		return !found
	})
	return found
}

// ReadsNoRow is implemented by the nodes of other packages that do not
// themselves read the row they are evaluated on (their children may): a
// correlated subquery's reference to the enclosing query's row, fixed for
// each run of the subquery, or an uncorrelated subquery. Other foreign
// nodes count as reading the row. With their volatility (at most Stable),
// such nodes may bound an index span or filter a scan (IsRowIndependent);
// they are never constants.
type ReadsNoRow interface {
	Expr
	ReadsNoRow()
}

// ownNode marks the expression types of this package, whose volatility
// and row use this package knows.
type ownNode interface{ ownNode() }

func isOwnPackageNode(e Expr) bool {
	_, ok := e.(ownNode)
	return ok
}

func (*Const) ownNode()     {}
func (*ColumnRef) ownNode() {}
func (*Param) ownNode()     {}

// SequenceOps gives the sequence functions (nextval, currval, setval)
// access to the catalog and the session: the session implements it, so
// that this package needs neither. name is the sequence's name as the
// function's argument gives it ('s', 'public.s', '"S"'), resolved as
// PostgreSQL's regclass input does.
type SequenceOps interface {
	NextVal(ctx context.Context, name string) (int64, error)
	CurrVal(ctx context.Context, name string) (int64, error)
	SetVal(ctx context.Context, name string, v int64, isCalled bool) (int64, error)
}

func (c *EvalContext) sequences() (SequenceOps, error) {
	if c == nil || c.Sequences == nil {
		return nil, sqlerr.Unsupportedf("sequence functions are not available here")
	}
	return c.Sequences, nil
}

func (c *EvalContext) ctx() context.Context {
	if c == nil || c.Ctx == nil {
		return context.Background()
	}
	return c.Ctx
}
