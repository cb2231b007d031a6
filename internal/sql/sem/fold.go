package sem

import (
	"github.com/cairndb/cairn/internal/sql/types"
)

// ConstFold returns e with every immutable subtree whose inputs are all
// constants replaced by its value: "1 + 2" becomes 3, "'2024-01-01'::date
// + 1" a date constant, "x > 1 + 1" becomes "x > 2". AND and OR with a
// constant operand are simplified (false AND x is false). Stable parts
// (now(), parameters, casts that read the TimeZone) stay; see FoldStable.
// A subtree whose evaluation fails (1/0) stays as it is, so that the
// error comes when, and if, it is evaluated.
func ConstFold(e Expr) Expr { return fold(nil, e, Immutable) }

// FoldStable folds as ConstFold does and also evaluates the stable parts
// (parameters, now(), current_user, TimeZone-dependent casts) with ctx: for
// an executor about to run a statement, so that an index bound or a
// filter's constant side is computed once rather than per row.
func FoldStable(ctx *EvalContext, e Expr) Expr { return fold(ctx, e, Stable) }

func fold(ctx *EvalContext, e Expr, limit Volatility) Expr {
	return Rewrite(e, func(x Expr) Expr {
		switch n := x.(type) {
		case *Const, *ColumnRef:
			return x
		case *Param:
			if limit >= Stable && ctx != nil {
				if d, err := n.Eval(ctx, nil); err == nil {
					return &Const{Datum: d, Typ: n.Typ}
				}
			}
			return x
		case *AndExpr:
			return simplifyBool(n.Args, true)
		case *OrExpr:
			return simplifyBool(n.Args, false)
		case *CoalesceExpr:
			// Drop leading NULL constants; a leading non-NULL constant wins.
			args := n.Args
			for len(args) > 0 {
				c, ok := args[0].(*Const)
				if !ok {
					break
				}
				if c.Datum != types.DNull {
					return &Const{Datum: c.Datum, Typ: n.Typ}
				}
				args = args[1:]
			}
			if len(args) == 0 {
				return &Const{Datum: types.DNull, Typ: n.Typ}
			}
			if len(args) < len(n.Args) {
				x = &CoalesceExpr{Args: args, Typ: n.Typ}
			}
		}
		if !isOwnPackageNode(x) {
			return x
		}
		if v, ok := x.(VolatilityOf); ok && v.Volatility() > limit {
			return x
		}
		if p, ok := x.(Parent); ok {
			for _, c := range p.Children() {
				if _, ok := c.(*Const); !ok {
					return x
				}
			}
		}
		if limit >= Stable && ctx == nil {
			return x
		}
		d, err := x.Eval(ctx, nil)
		if err != nil {
			return x
		}
		return &Const{Datum: d, Typ: x.Type()}
	})
}

// simplifyBool folds AND (and) or OR (!and) over constant operands.
func simplifyBool(args []Expr, and bool) Expr {
	absorbing, neutral := types.DFalse, types.DTrue
	if !and {
		absorbing, neutral = types.DTrue, types.DFalse
	}
	var keep []Expr
	sawNull := false
	for _, a := range args {
		if c, ok := a.(*Const); ok {
			switch c.Datum {
			case absorbing:
				return &Const{Datum: absorbing, Typ: types.Bool}
			case neutral:
				continue
			default:
				sawNull = true
				continue
			}
		}
		keep = append(keep, a)
	}
	if sawNull {
		keep = append(keep, &Const{Datum: types.DNull, Typ: types.Bool})
	}
	switch {
	case len(keep) == 0:
		return &Const{Datum: neutral, Typ: types.Bool}
	case len(keep) == 1 && !sawNull:
		return keep[0]
	case len(keep) == 1:
		return keep[0] // only the NULL constant
	}
	if and {
		return &AndExpr{Args: keep}
	}
	return &OrExpr{Args: keep}
}

// IsConst reports whether e has the same value every time it is evaluated,
// in any statement: no column, no parameter, nothing stable or volatile.
// ConstFold turns such an expression into a *Const (unless evaluating it
// fails).
func IsConst(e Expr) bool {
	return !ReferencesColumns(e) && MaxVolatility(e) == Immutable && !hasParam(e)
}

// IsRowIndependent reports whether e can be evaluated once per execution
// rather than per row: it reads no column and is at most stable
// (parameters, now()). Such expressions may serve as index bounds.
func IsRowIndependent(e Expr) bool {
	return !ReferencesColumns(e) && MaxVolatility(e) <= Stable
}

func hasParam(e Expr) bool {
	found := false
	Walk(e, func(x Expr) bool {
		if _, ok := x.(*Param); ok {
			found = true
		}
		return !found
	})
	return found
}

// SplitConjuncts returns the operands of e's top-level ANDs, flattened:
// "a AND (b AND c)" gives [a, b, c]; any other expression gives [e].
func SplitConjuncts(e Expr) []Expr {
	if a, ok := e.(*AndExpr); ok {
		var out []Expr
		for _, x := range a.Args {
			out = append(out, SplitConjuncts(x)...)
		}
		return out
	}
	return []Expr{e}
}

// Conjoin is the inverse of SplitConjuncts: the AND of es (true for none).
func Conjoin(es []Expr) Expr {
	switch len(es) {
	case 0:
		return &Const{Datum: types.DTrue, Typ: types.Bool}
	case 1:
		return es[0]
	}
	return &AndExpr{Args: flatten(es, true)}
}

// The ops ColumnComparison reports besides the comparison operators.
const (
	OpIn        = "IN"          // value is an array (ArrayExpr or array-typed)
	OpIsNull    = "IS NULL"     // value is nil
	OpIsNotNull = "IS NOT NULL" // value is nil
)

// ColumnComparison recognizes a conjunct an index can serve: "col op
// value" with op one of =, <, <=, >, >= (the column on either side; the op
// is given as if the column were on the left), "col IN (...)" and "col =
// ANY(array)" (op OpIn, value an array-typed expression), "col IS [NOT]
// NULL", and a bare boolean column (col = true) or its NOT (col = false).
// value reads no column and is at most stable (constants, parameters,
// now()): evaluate it once per execution. Its type is the comparison's,
// which may be wider than the column's (an integer column compared with a
// bigint value): the caller converts, a value outside the column's range
// matching no row of = and bounding the range of < and >.
func ColumnComparison(e Expr) (colIdx int, op string, value Expr, ok bool) {
	switch n := e.(type) {
	case *CompareExpr:
		if n.Op == "<>" {
			return 0, "", nil, false
		}
		if c, ok := unwrapColumn(n.Left); ok && IsRowIndependent(n.Right) {
			return c.Idx, n.Op, n.Right, true
		}
		if c, ok := unwrapColumn(n.Right); ok && IsRowIndependent(n.Left) {
			return c.Idx, commuteOp(n.Op), n.Left, true
		}
	case *InExpr:
		if n.Not {
			return 0, "", nil, false
		}
		c, ok := unwrapColumn(n.Left)
		if !ok {
			return 0, "", nil, false
		}
		for _, x := range n.List {
			if !IsRowIndependent(x) {
				return 0, "", nil, false
			}
		}
		return c.Idx, OpIn, &ArrayExpr{Elems: n.List, Typ: types.ArrayOf(n.Left.Type().WithoutModifiers())}, true
	case *ArrayOpExpr:
		if n.Op != "=" || n.All {
			return 0, "", nil, false
		}
		if c, ok := unwrapColumn(n.Left); ok && IsRowIndependent(n.Right) {
			return c.Idx, OpIn, n.Right, true
		}
	case *IsNullExpr:
		if c, ok := unwrapColumn(n.Arg); ok {
			if n.Not {
				return c.Idx, OpIsNotNull, nil, true
			}
			return c.Idx, OpIsNull, nil, true
		}
	case *ColumnRef:
		if n.Typ.Family() == types.BoolFamily {
			return n.Idx, "=", &Const{Datum: types.DTrue, Typ: types.Bool}, true
		}
	case *NotExpr:
		if c, ok := n.Arg.(*ColumnRef); ok && c.Typ.Family() == types.BoolFamily {
			return c.Idx, "=", &Const{Datum: types.DFalse, Typ: types.Bool}, true
		}
	}
	return 0, "", nil, false
}

// unwrapColumn sees through the casts that keep a column's order and
// equality: integer widening and string types to text.
func unwrapColumn(e Expr) (*ColumnRef, bool) {
	for {
		switch n := e.(type) {
		case *ColumnRef:
			return n, true
		case *CastExpr:
			from, to := n.Arg.Type(), n.Typ
			switch {
			case from.Family() == types.IntFamily && to.Family() == types.IntFamily && to.Width() >= from.Width():
			case from.Family() == types.StringFamily && (to.Oid() == types.OidText || (to.Oid() == types.OidVarChar && to.Length() < 0)):
			default:
				return nil, false
			}
			e = n.Arg
		default:
			return nil, false
		}
	}
}
