package sem

import (
	"strings"

	"github.com/cairndb/cairn/internal/sql/types"
)

// evalFn computes a function or operator from its argument values.
type evalFn func(ctx *EvalContext, args []types.Datum) (types.Datum, error)

// callForm is how a FuncExpr prints.
type callForm uint8

const (
	formCall    callForm = iota // name(a, b)
	formInfix                   // (a op b)
	formPrefix                  // (op a)
	formKeyword                 // a SQL keyword without parentheses: CURRENT_DATE
	formCast                    // (a)::name
)

// FuncExpr is a call of a built-in function, or an operator that is not a
// comparison: (a + b), lower(s), (j -> 'k').
type FuncExpr struct {
	Name string
	Args []Expr
	typ  *types.Type
	fn   evalFn
	// strict: a NULL argument gives NULL without calling fn.
	strict bool
	vol    Volatility
	form   callForm
}

func (*FuncExpr) ownNode() {}

// Type implements Expr.
func (f *FuncExpr) Type() *types.Type { return f.typ }

// Volatility implements VolatilityOf.
func (f *FuncExpr) Volatility() Volatility { return f.vol }

// Children implements Parent.
func (f *FuncExpr) Children() []Expr { return f.Args }

// WithChildren implements Parent.
func (f *FuncExpr) WithChildren(c []Expr) Expr {
	n := *f
	n.Args = c
	return &n
}

// Eval implements Expr.
func (f *FuncExpr) Eval(ctx *EvalContext, row []types.Datum) (types.Datum, error) {
	var buf [4]types.Datum
	vals := buf[:0]
	for _, a := range f.Args {
		v, err := a.Eval(ctx, row)
		if err != nil {
			return nil, err
		}
		if v == types.DNull && f.strict {
			return types.DNull, nil
		}
		vals = append(vals, v)
	}
	return f.fn(ctx, vals)
}

// String implements Expr.
func (f *FuncExpr) String() string {
	switch f.form {
	case formInfix:
		return "(" + f.Args[0].String() + " " + f.Name + " " + f.Args[1].String() + ")"
	case formPrefix:
		return "(" + f.Name + " " + f.Args[0].String() + ")"
	case formKeyword:
		return f.Name
	case formCast:
		return "(" + f.Args[0].String() + ")::" + f.Name
	}
	return f.Name + "(" + joinExprs(f.Args) + ")"
}

func joinExprs(es []Expr) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.String()
	}
	return strings.Join(parts, ", ")
}

// CompareExpr is a comparison of two values of one type: =, <>, <, <=, >,
// >=, with SQL's NULL semantics (NULL if either side is NULL). The
// operands were coerced to one type, so types.Compare orders them.
type CompareExpr struct {
	Op          string // "=", "<>", "<", "<=", ">", ">="
	Left, Right Expr
}

func (*CompareExpr) ownNode() {}

// Type implements Expr.
func (c *CompareExpr) Type() *types.Type { return types.Bool }

// Children implements Parent.
func (c *CompareExpr) Children() []Expr { return []Expr{c.Left, c.Right} }

// WithChildren implements Parent.
func (c *CompareExpr) WithChildren(k []Expr) Expr {
	return &CompareExpr{Op: c.Op, Left: k[0], Right: k[1]}
}

// Eval implements Expr.
func (c *CompareExpr) Eval(ctx *EvalContext, row []types.Datum) (types.Datum, error) {
	l, err := c.Left.Eval(ctx, row)
	if err != nil || l == types.DNull {
		return l, err
	}
	r, err := c.Right.Eval(ctx, row)
	if err != nil || r == types.DNull {
		return r, err
	}
	return types.MakeDBool(cmpResult(c.Op, types.Compare(l, r))), nil
}

// String implements Expr.
func (c *CompareExpr) String() string {
	return "(" + c.Left.String() + " " + c.Op + " " + c.Right.String() + ")"
}

func cmpResult(op string, c int) bool {
	switch op {
	case "=":
		return c == 0
	case "<>":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	panic("sem: comparison operator " + op)
}

// commuteOp returns the operator o' with (a o b) = (b o' a).
func commuteOp(op string) string {
	switch op {
	case "<":
		return ">"
	case "<=":
		return ">="
	case ">":
		return "<"
	case ">=":
		return "<="
	}
	return op
}

// CastExpr converts its argument's value to Typ.
type CastExpr struct {
	Arg Expr
	Typ *types.Type
	// Context decides how a too long string is treated (cut when
	// explicit, an error otherwise).
	Context types.CoercionContext
	vol     Volatility
}

func (*CastExpr) ownNode() {}

// Type implements Expr.
func (c *CastExpr) Type() *types.Type { return c.Typ }

// Volatility implements VolatilityOf: casts that read the TimeZone are
// stable.
func (c *CastExpr) Volatility() Volatility { return c.vol }

// Children implements Parent.
func (c *CastExpr) Children() []Expr { return []Expr{c.Arg} }

// WithChildren implements Parent.
func (c *CastExpr) WithChildren(k []Expr) Expr {
	n := *c
	n.Arg = k[0]
	return &n
}

// Eval implements Expr.
func (c *CastExpr) Eval(ctx *EvalContext, row []types.Datum) (types.Datum, error) {
	v, err := c.Arg.Eval(ctx, row)
	if err != nil || v == types.DNull {
		return v, err
	}
	return castDatum(ctx, v, c.Arg.Type(), c.Typ, c.Context)
}

// String implements Expr.
func (c *CastExpr) String() string {
	a := c.Arg.String()
	if _, ok := c.Arg.(*Const); ok && !strings.HasPrefix(a, "(") {
		if i := strings.LastIndex(a, "::"); i > 0 && strings.HasPrefix(a, "'") {
			a = a[:i]
		}
		return a + "::" + c.Typ.Name()
	}
	return "(" + a + ")::" + c.Typ.Name()
}

// castDatum converts v from type from to type to.
func castDatum(ctx *EvalContext, v types.Datum, from, to *types.Type, cc types.CoercionContext) (types.Datum, error) {
	if from.Family() == types.UnknownFamily {
		from = nil
	}
	return types.Caster{Context: cc, Settings: ctx.settings()}.Cast(v, from, to)
}

// castVolatility is the volatility of a cast from → to: those that read
// the session's TimeZone are stable.
func castVolatility(from, to *types.Type) Volatility {
	tz := from.Family() == types.TimestampTZFamily || to.Family() == types.TimestampTZFamily
	if from.Family() == types.ArrayFamily && to.Family() == types.ArrayFamily {
		return castVolatility(from.Elem(), to.Elem())
	}
	if tz && from.Family() != to.Family() {
		return Stable
	}
	// Text to date or timestamp reads 'now', 'today'...
	if from.Family() == types.StringFamily {
		switch to.Family() {
		case types.DateFamily, types.TimestampFamily, types.TimestampTZFamily:
			return Stable
		}
	}
	return Immutable
}

// AndExpr is the conjunction of its arguments with three-valued logic:
// false if any is false, else NULL if any is NULL, else true. Arguments
// are evaluated left to right and evaluation stops at the first false.
type AndExpr struct{ Args []Expr }

// OrExpr is the disjunction: true if any is true, else NULL if any is
// NULL, else false.
type OrExpr struct{ Args []Expr }

// NotExpr is NOT: NULL stays NULL.
type NotExpr struct{ Arg Expr }

func (*AndExpr) ownNode() {}
func (*OrExpr) ownNode()  {}
func (*NotExpr) ownNode() {}

// Type implements Expr.
func (*AndExpr) Type() *types.Type { return types.Bool }

// Type implements Expr.
func (*OrExpr) Type() *types.Type { return types.Bool }

// Type implements Expr.
func (*NotExpr) Type() *types.Type { return types.Bool }

// Children implements Parent.
func (a *AndExpr) Children() []Expr { return a.Args }

// Children implements Parent.
func (o *OrExpr) Children() []Expr { return o.Args }

// Children implements Parent.
func (n *NotExpr) Children() []Expr { return []Expr{n.Arg} }

// WithChildren implements Parent.
func (a *AndExpr) WithChildren(k []Expr) Expr { return &AndExpr{Args: k} }

// WithChildren implements Parent.
func (o *OrExpr) WithChildren(k []Expr) Expr { return &OrExpr{Args: k} }

// WithChildren implements Parent.
func (n *NotExpr) WithChildren(k []Expr) Expr { return &NotExpr{Arg: k[0]} }

// Eval implements Expr.
func (a *AndExpr) Eval(ctx *EvalContext, row []types.Datum) (types.Datum, error) {
	sawNull := false
	for _, e := range a.Args {
		v, err := e.Eval(ctx, row)
		if err != nil {
			return nil, err
		}
		switch v {
		case types.DNull:
			sawNull = true
		case types.DFalse:
			return types.DFalse, nil
		}
	}
	if sawNull {
		return types.DNull, nil
	}
	return types.DTrue, nil
}

// Eval implements Expr.
func (o *OrExpr) Eval(ctx *EvalContext, row []types.Datum) (types.Datum, error) {
	sawNull := false
	for _, e := range o.Args {
		v, err := e.Eval(ctx, row)
		if err != nil {
			return nil, err
		}
		switch v {
		case types.DNull:
			sawNull = true
		case types.DTrue:
			return types.DTrue, nil
		}
	}
	if sawNull {
		return types.DNull, nil
	}
	return types.DFalse, nil
}

// Eval implements Expr.
func (n *NotExpr) Eval(ctx *EvalContext, row []types.Datum) (types.Datum, error) {
	v, err := n.Arg.Eval(ctx, row)
	if err != nil || v == types.DNull {
		return v, err
	}
	return types.MakeDBool(v == types.DFalse), nil
}

// String implements Expr.
func (a *AndExpr) String() string { return "(" + joinWith(a.Args, " AND ") + ")" }

// String implements Expr.
func (o *OrExpr) String() string { return "(" + joinWith(o.Args, " OR ") + ")" }

// String implements Expr.
func (n *NotExpr) String() string { return "(NOT " + n.Arg.String() + ")" }

func joinWith(es []Expr, sep string) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.String()
	}
	return strings.Join(parts, sep)
}

// IsNullExpr is "Arg IS NULL", or "Arg IS NOT NULL" if Not.
type IsNullExpr struct {
	Arg Expr
	Not bool
}

func (*IsNullExpr) ownNode() {}

// Type implements Expr.
func (*IsNullExpr) Type() *types.Type { return types.Bool }

// Children implements Parent.
func (n *IsNullExpr) Children() []Expr { return []Expr{n.Arg} }

// WithChildren implements Parent.
func (n *IsNullExpr) WithChildren(k []Expr) Expr { return &IsNullExpr{Arg: k[0], Not: n.Not} }

// Eval implements Expr.
func (n *IsNullExpr) Eval(ctx *EvalContext, row []types.Datum) (types.Datum, error) {
	v, err := n.Arg.Eval(ctx, row)
	if err != nil {
		return nil, err
	}
	return types.MakeDBool((v == types.DNull) != n.Not), nil
}

// String implements Expr.
func (n *IsNullExpr) String() string {
	if n.Not {
		return "(" + n.Arg.String() + " IS NOT NULL)"
	}
	return "(" + n.Arg.String() + " IS NULL)"
}

// BoolTest is the test of a BoolTestExpr.
type BoolTest uint8

// The tests.
const (
	IsTrue BoolTest = iota
	IsNotTrue
	IsFalse
	IsNotFalse
	IsUnknown
	IsNotUnknown
)

var boolTestNames = [...]string{"IS TRUE", "IS NOT TRUE", "IS FALSE", "IS NOT FALSE", "IS UNKNOWN", "IS NOT UNKNOWN"}

// BoolTestExpr is "Arg IS [NOT] TRUE/FALSE/UNKNOWN": never NULL.
type BoolTestExpr struct {
	Arg  Expr
	Test BoolTest
}

func (*BoolTestExpr) ownNode() {}

// Type implements Expr.
func (*BoolTestExpr) Type() *types.Type { return types.Bool }

// Children implements Parent.
func (b *BoolTestExpr) Children() []Expr { return []Expr{b.Arg} }

// WithChildren implements Parent.
func (b *BoolTestExpr) WithChildren(k []Expr) Expr { return &BoolTestExpr{Arg: k[0], Test: b.Test} }

// Eval implements Expr.
func (b *BoolTestExpr) Eval(ctx *EvalContext, row []types.Datum) (types.Datum, error) {
	v, err := b.Arg.Eval(ctx, row)
	if err != nil {
		return nil, err
	}
	var r bool
	switch b.Test {
	case IsTrue:
		r = v == types.DTrue
	case IsNotTrue:
		r = v != types.DTrue
	case IsFalse:
		r = v == types.DFalse
	case IsNotFalse:
		r = v != types.DFalse
	case IsUnknown:
		r = v == types.DNull
	case IsNotUnknown:
		r = v != types.DNull
	}
	return types.MakeDBool(r), nil
}

// String implements Expr.
func (b *BoolTestExpr) String() string {
	return "(" + b.Arg.String() + " " + boolTestNames[b.Test] + ")"
}

// CaseExpr is CASE. In the searched form (Operand nil) Whens are boolean
// conditions; in the simple form they are values compared for equality
// with Operand, all of one type. Else nil means ELSE NULL.
type CaseExpr struct {
	Operand Expr
	Whens   []Expr
	Thens   []Expr
	Else    Expr
	Typ     *types.Type
}

func (*CaseExpr) ownNode() {}

// Type implements Expr.
func (c *CaseExpr) Type() *types.Type { return c.Typ }

// Children implements Parent: Operand (if any), then WHEN/THEN pairs, then
// Else (if any).
func (c *CaseExpr) Children() []Expr {
	var k []Expr
	if c.Operand != nil {
		k = append(k, c.Operand)
	}
	for i := range c.Whens {
		k = append(k, c.Whens[i], c.Thens[i])
	}
	if c.Else != nil {
		k = append(k, c.Else)
	}
	return k
}

// WithChildren implements Parent.
func (c *CaseExpr) WithChildren(k []Expr) Expr {
	n := &CaseExpr{Typ: c.Typ}
	if c.Operand != nil {
		n.Operand, k = k[0], k[1:]
	}
	for range c.Whens {
		n.Whens = append(n.Whens, k[0])
		n.Thens = append(n.Thens, k[1])
		k = k[2:]
	}
	if c.Else != nil {
		n.Else = k[0]
	}
	return n
}

// Eval implements Expr.
func (c *CaseExpr) Eval(ctx *EvalContext, row []types.Datum) (types.Datum, error) {
	var op types.Datum
	if c.Operand != nil {
		var err error
		if op, err = c.Operand.Eval(ctx, row); err != nil {
			return nil, err
		}
	}
	for i, w := range c.Whens {
		v, err := w.Eval(ctx, row)
		if err != nil {
			return nil, err
		}
		match := v == types.DTrue
		if c.Operand != nil {
			match = op != types.DNull && v != types.DNull && types.Compare(op, v) == 0
		}
		if match {
			return c.Thens[i].Eval(ctx, row)
		}
	}
	if c.Else == nil {
		return types.DNull, nil
	}
	return c.Else.Eval(ctx, row)
}

// String implements Expr.
func (c *CaseExpr) String() string {
	var b strings.Builder
	b.WriteString("CASE")
	if c.Operand != nil {
		b.WriteString(" " + c.Operand.String())
	}
	for i := range c.Whens {
		b.WriteString(" WHEN " + c.Whens[i].String() + " THEN " + c.Thens[i].String())
	}
	if c.Else != nil {
		b.WriteString(" ELSE " + c.Else.String())
	}
	b.WriteString(" END")
	return b.String()
}

// CoalesceExpr is COALESCE: the first non-NULL argument, evaluated left to
// right and no further.
type CoalesceExpr struct {
	Args []Expr
	Typ  *types.Type
}

func (*CoalesceExpr) ownNode() {}

// Type implements Expr.
func (c *CoalesceExpr) Type() *types.Type { return c.Typ }

// Children implements Parent.
func (c *CoalesceExpr) Children() []Expr { return c.Args }

// WithChildren implements Parent.
func (c *CoalesceExpr) WithChildren(k []Expr) Expr { return &CoalesceExpr{Args: k, Typ: c.Typ} }

// Eval implements Expr.
func (c *CoalesceExpr) Eval(ctx *EvalContext, row []types.Datum) (types.Datum, error) {
	for _, a := range c.Args {
		v, err := a.Eval(ctx, row)
		if err != nil || v != types.DNull {
			return v, err
		}
	}
	return types.DNull, nil
}

// String implements Expr.
func (c *CoalesceExpr) String() string { return "COALESCE(" + joinExprs(c.Args) + ")" }

// NullIfExpr is NULLIF(Left, Right): NULL if they are equal, else Left.
// Both are of one type.
type NullIfExpr struct{ Left, Right Expr }

func (*NullIfExpr) ownNode() {}

// Type implements Expr.
func (n *NullIfExpr) Type() *types.Type { return n.Left.Type() }

// Children implements Parent.
func (n *NullIfExpr) Children() []Expr { return []Expr{n.Left, n.Right} }

// WithChildren implements Parent.
func (n *NullIfExpr) WithChildren(k []Expr) Expr { return &NullIfExpr{Left: k[0], Right: k[1]} }

// Eval implements Expr.
func (n *NullIfExpr) Eval(ctx *EvalContext, row []types.Datum) (types.Datum, error) {
	l, err := n.Left.Eval(ctx, row)
	if err != nil {
		return nil, err
	}
	r, err := n.Right.Eval(ctx, row)
	if err != nil {
		return nil, err
	}
	if l != types.DNull && r != types.DNull && types.Compare(l, r) == 0 {
		return types.DNull, nil
	}
	return l, nil
}

// String implements Expr.
func (n *NullIfExpr) String() string {
	return "NULLIF(" + n.Left.String() + ", " + n.Right.String() + ")"
}

// MinMaxExpr is GREATEST or LEAST: NULL arguments are ignored; NULL only if
// all are NULL.
type MinMaxExpr struct {
	Greatest bool
	Args     []Expr
	Typ      *types.Type
}

func (*MinMaxExpr) ownNode() {}

// Type implements Expr.
func (m *MinMaxExpr) Type() *types.Type { return m.Typ }

// Children implements Parent.
func (m *MinMaxExpr) Children() []Expr { return m.Args }

// WithChildren implements Parent.
func (m *MinMaxExpr) WithChildren(k []Expr) Expr {
	return &MinMaxExpr{Greatest: m.Greatest, Args: k, Typ: m.Typ}
}

// Eval implements Expr.
func (m *MinMaxExpr) Eval(ctx *EvalContext, row []types.Datum) (types.Datum, error) {
	best := types.DNull
	for _, a := range m.Args {
		v, err := a.Eval(ctx, row)
		if err != nil {
			return nil, err
		}
		if v == types.DNull {
			continue
		}
		if best == types.DNull {
			best = v
			continue
		}
		c := types.Compare(v, best)
		if (m.Greatest && c > 0) || (!m.Greatest && c < 0) {
			best = v
		}
	}
	return best, nil
}

// String implements Expr.
func (m *MinMaxExpr) String() string {
	if m.Greatest {
		return "GREATEST(" + joinExprs(m.Args) + ")"
	}
	return "LEAST(" + joinExprs(m.Args) + ")"
}

// InExpr is "Left IN (List...)", or NOT IN if Not; all of one type. NULL
// when Left is NULL, or when no element matches and one is NULL.
type InExpr struct {
	Left Expr
	List []Expr
	Not  bool
}

func (*InExpr) ownNode() {}

// Type implements Expr.
func (*InExpr) Type() *types.Type { return types.Bool }

// Children implements Parent: Left, then List.
func (in *InExpr) Children() []Expr { return append([]Expr{in.Left}, in.List...) }

// WithChildren implements Parent.
func (in *InExpr) WithChildren(k []Expr) Expr {
	return &InExpr{Left: k[0], List: k[1:], Not: in.Not}
}

// Eval implements Expr.
func (in *InExpr) Eval(ctx *EvalContext, row []types.Datum) (types.Datum, error) {
	l, err := in.Left.Eval(ctx, row)
	if err != nil || l == types.DNull {
		return l, err
	}
	sawNull := false
	for _, e := range in.List {
		v, err := e.Eval(ctx, row)
		if err != nil {
			return nil, err
		}
		if v == types.DNull {
			sawNull = true
			continue
		}
		if types.Compare(l, v) == 0 {
			return types.MakeDBool(!in.Not), nil
		}
	}
	if sawNull {
		return types.DNull, nil
	}
	return types.MakeDBool(in.Not), nil
}

// String implements Expr.
func (in *InExpr) String() string {
	op := " IN ("
	if in.Not {
		op = " NOT IN ("
	}
	return "(" + in.Left.String() + op + joinExprs(in.List) + "))"
}

// binaryFn evaluates a binary operator on two non-NULL values (or, when
// the operator is not strict, possibly NULL ones).
type binaryFn func(ctx *EvalContext, l, r types.Datum) (types.Datum, error)

// ArrayOpExpr is "Left op ANY (Right)" or "Left op ALL (Right)", Right an
// array: PostgreSQL's ScalarArrayOpExpr, with its NULL semantics (ANY:
// true if some comparison is true, else NULL if some was NULL, else false;
// ALL: the dual; an empty array gives false for ANY and true for ALL).
type ArrayOpExpr struct {
	Op          string
	All         bool
	Left, Right Expr
	fn          binaryFn
	vol         Volatility
}

func (*ArrayOpExpr) ownNode() {}

// Type implements Expr.
func (*ArrayOpExpr) Type() *types.Type { return types.Bool }

// Volatility implements VolatilityOf.
func (a *ArrayOpExpr) Volatility() Volatility { return a.vol }

// Children implements Parent.
func (a *ArrayOpExpr) Children() []Expr { return []Expr{a.Left, a.Right} }

// WithChildren implements Parent.
func (a *ArrayOpExpr) WithChildren(k []Expr) Expr {
	n := *a
	n.Left, n.Right = k[0], k[1]
	return &n
}

// Eval implements Expr.
func (a *ArrayOpExpr) Eval(ctx *EvalContext, row []types.Datum) (types.Datum, error) {
	l, err := a.Left.Eval(ctx, row)
	if err != nil {
		return nil, err
	}
	r, err := a.Right.Eval(ctx, row)
	if err != nil || r == types.DNull {
		return r, err
	}
	arr := r.(*types.DArray)
	if len(arr.Elems) == 0 {
		return types.MakeDBool(a.All), nil
	}
	if l == types.DNull {
		return types.DNull, nil
	}
	sawNull := false
	for _, e := range arr.Elems {
		if e == types.DNull {
			sawNull = true
			continue
		}
		v, err := a.fn(ctx, l, e)
		if err != nil {
			return nil, err
		}
		switch {
		case v == types.DNull:
			sawNull = true
		case a.All && v == types.DFalse:
			return types.DFalse, nil
		case !a.All && v == types.DTrue:
			return types.DTrue, nil
		}
	}
	if sawNull {
		return types.DNull, nil
	}
	return types.MakeDBool(a.All), nil
}

// String implements Expr.
func (a *ArrayOpExpr) String() string {
	q := "ANY"
	if a.All {
		q = "ALL"
	}
	return "(" + a.Left.String() + " " + a.Op + " " + q + " (" + a.Right.String() + "))"
}

// ArrayExpr is ARRAY[...]: a one-dimensional array of its elements, all of
// type Typ.Elem().
type ArrayExpr struct {
	Elems []Expr
	Typ   *types.Type
}

func (*ArrayExpr) ownNode() {}

// Type implements Expr.
func (a *ArrayExpr) Type() *types.Type { return a.Typ }

// Children implements Parent.
func (a *ArrayExpr) Children() []Expr { return a.Elems }

// WithChildren implements Parent.
func (a *ArrayExpr) WithChildren(k []Expr) Expr { return &ArrayExpr{Elems: k, Typ: a.Typ} }

// Eval implements Expr.
func (a *ArrayExpr) Eval(ctx *EvalContext, row []types.Datum) (types.Datum, error) {
	out := make([]types.Datum, len(a.Elems))
	for i, e := range a.Elems {
		v, err := e.Eval(ctx, row)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return types.NewDArray(a.Typ.Elem(), out), nil
}

// String implements Expr.
func (a *ArrayExpr) String() string { return "ARRAY[" + joinExprs(a.Elems) + "]" }

// DistinctExpr is "Left IS DISTINCT FROM Right" (or IS NOT DISTINCT FROM if
// Not): equality where NULL equals NULL; never NULL.
type DistinctExpr struct {
	Left, Right Expr
	Not         bool
}

func (*DistinctExpr) ownNode() {}

// Type implements Expr.
func (*DistinctExpr) Type() *types.Type { return types.Bool }

// Children implements Parent.
func (d *DistinctExpr) Children() []Expr { return []Expr{d.Left, d.Right} }

// WithChildren implements Parent.
func (d *DistinctExpr) WithChildren(k []Expr) Expr {
	return &DistinctExpr{Left: k[0], Right: k[1], Not: d.Not}
}

// Eval implements Expr.
func (d *DistinctExpr) Eval(ctx *EvalContext, row []types.Datum) (types.Datum, error) {
	l, err := d.Left.Eval(ctx, row)
	if err != nil {
		return nil, err
	}
	r, err := d.Right.Eval(ctx, row)
	if err != nil {
		return nil, err
	}
	distinct := types.Compare(l, r) != 0 // NULL = NULL under Compare
	return types.MakeDBool(distinct != d.Not), nil
}

// String implements Expr.
func (d *DistinctExpr) String() string {
	if d.Not {
		return "(" + d.Left.String() + " IS NOT DISTINCT FROM " + d.Right.String() + ")"
	}
	return "(" + d.Left.String() + " IS DISTINCT FROM " + d.Right.String() + ")"
}
