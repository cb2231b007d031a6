package sem

import (
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// maxArrayElems bounds the arrays that functions build.
const maxArrayElems = 1 << 24

// buildArray builds ARRAY[...]; elemHint, if not nil, is the element type
// the context expects (a cast, a column), which untyped elements and an
// empty array take.
func (b *Builder) buildArray(arr *pg_query.A_ArrayExpr, elemHint *types.Type) (Expr, error) {
	elems := make([]Expr, len(arr.Elements))
	for i, n := range arr.Elements {
		if n.GetAArrayExpr() != nil {
			return nil, sqlerr.Unsupportedf("multidimensional arrays are not supported")
		}
		e, err := b.build(n)
		if err != nil {
			return nil, err
		}
		if elemHint != nil && isUnknown(e.Type()) {
			if e, err = b.coerceUnknown(e, elemHint, types.CoercionExplicit); err != nil {
				return nil, err
			}
		}
		if e.Type().Family() == types.ArrayFamily {
			return nil, sqlerr.Unsupportedf("multidimensional arrays are not supported")
		}
		elems[i] = e
	}
	if len(elems) == 0 {
		if elemHint == nil {
			return nil, sqlerr.New(codeIndeterminateDatatype, "cannot determine type of empty array").
				WithHint("Explicitly cast to the desired type, for example ARRAY[]::integer[].")
		}
		return &ArrayExpr{Typ: types.ArrayOf(elemHint.WithoutModifiers())}, nil
	}
	elems, t, err := b.unifyExprs(elems, "ARRAY")
	if err != nil {
		return nil, err
	}
	return &ArrayExpr{Elems: elems, Typ: types.ArrayOf(t)}, nil
}

// buildArrayBinary builds the array operators: comparisons, @>, <@, &&.
// ok is false for an operator it does not know.
func (b *Builder) buildArrayBinary(op string, l, r Expr) (Expr, bool, error) {
	switch op {
	case "=", "<>", "<", "<=", ">", ">=", "@>", "<@", "&&":
	default:
		return nil, false, nil
	}
	lt, rt := l.Type(), r.Type()
	var err error
	switch {
	case isUnknown(lt):
		l, err = b.coerceUnknown(l, rt, types.CoercionImplicit)
	case isUnknown(rt):
		r, err = b.coerceUnknown(r, lt, types.CoercionImplicit)
	}
	if err != nil {
		return nil, true, err
	}
	lt, rt = l.Type(), r.Type()
	if lt.Family() != types.ArrayFamily || rt.Family() != types.ArrayFamily {
		return nil, true, errUndefinedOperator(op, lt, rt)
	}
	ct, err := CommonType([]*types.Type{lt, rt}, "array")
	if err != nil {
		return nil, true, errUndefinedOperator(op, lt, rt)
	}
	if l, err = b.coerce(l, ct); err != nil {
		return nil, true, err
	}
	if r, err = b.coerce(r, ct); err != nil {
		return nil, true, err
	}
	if isCompareOp(op) {
		return &CompareExpr{Op: op, Left: l, Right: r}, true, nil
	}
	var fn evalFn
	switch op {
	case "@>":
		fn = func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			return types.MakeDBool(arrayContains(a[0].(*types.DArray), a[1].(*types.DArray))), nil
		}
	case "<@":
		fn = func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			return types.MakeDBool(arrayContains(a[1].(*types.DArray), a[0].(*types.DArray))), nil
		}
	case "&&":
		fn = func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			return types.MakeDBool(arrayOverlaps(a[0].(*types.DArray), a[1].(*types.DArray))), nil
		}
	}
	return &FuncExpr{Name: op, Args: []Expr{l, r}, typ: types.Bool, fn: fn, strict: true, form: formInfix}, true, nil
}

// arrayContains reports whether every non-NULL element of sub is in a
// (NULL elements never match, as in PostgreSQL).
func arrayContains(a, sub *types.DArray) bool {
	for _, x := range sub.Elems {
		if x == types.DNull {
			return false
		}
		found := false
		for _, y := range a.Elems {
			if y != types.DNull && types.Compare(x, y) == 0 {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func arrayOverlaps(a, c *types.DArray) bool {
	for _, x := range a.Elems {
		if x == types.DNull {
			continue
		}
		for _, y := range c.Elems {
			if y != types.DNull && types.Compare(x, y) == 0 {
				return true
			}
		}
	}
	return false
}

// buildArrayConcat builds || with an array operand: array || array,
// array || element, element || array.
func (b *Builder) buildArrayConcat(l, r Expr) (Expr, error) {
	lt, rt := l.Type(), r.Type()
	var err error
	switch {
	case isUnknown(lt):
		l, err = b.coerceUnknown(l, rt, types.CoercionImplicit)
	case isUnknown(rt):
		r, err = b.coerceUnknown(r, lt, types.CoercionImplicit)
	}
	if err != nil {
		return nil, err
	}
	lt, rt = l.Type(), r.Type()
	elemOf := func(t *types.Type) *types.Type {
		if t.Family() == types.ArrayFamily {
			return t.Elem()
		}
		return t
	}
	et, err := CommonType([]*types.Type{elemOf(lt), elemOf(rt)}, "array concatenation")
	if err != nil {
		return nil, errUndefinedOperator("||", lt, rt)
	}
	conv := func(e Expr) (Expr, error) {
		if e.Type().Family() == types.ArrayFamily {
			return b.coerce(e, types.ArrayOf(et))
		}
		return b.coerce(e, et)
	}
	if l, err = conv(l); err != nil {
		return nil, err
	}
	if r, err = conv(r); err != nil {
		return nil, err
	}
	lArr, rArr := lt.Family() == types.ArrayFamily, rt.Family() == types.ArrayFamily
	fn := func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		var out []types.Datum
		for i, d := range a {
			isArr := (i == 0 && lArr) || (i == 1 && rArr)
			switch {
			case isArr && d == types.DNull:
			case isArr:
				out = append(out, d.(*types.DArray).Elems...)
			default:
				out = append(out, d)
			}
		}
		if len(out) > maxArrayElems {
			return nil, errTooLarge()
		}
		if a[0] == types.DNull && a[1] == types.DNull {
			return types.DNull, nil
		}
		return types.NewDArray(et, out), nil
	}
	return &FuncExpr{Name: "||", Args: []Expr{l, r}, typ: types.ArrayOf(et), fn: fn, form: formInfix}, nil
}

// buildIndirection builds subscripts: arr[i], arr[i:j], jsonb['key'].
func (b *Builder) buildIndirection(ind *pg_query.A_Indirection) (Expr, error) {
	e, err := b.build(ind.Arg)
	if err != nil {
		return nil, err
	}
	for _, n := range ind.Indirection {
		idx := n.GetAIndices()
		if idx == nil {
			if n.GetAStar() != nil {
				return nil, sqlerr.Unsupportedf("row expansion (.*) is not supported")
			}
			return nil, sqlerr.Unsupportedf("field selection is not supported")
		}
		if e, err = b.buildSubscript(e, idx); err != nil {
			return nil, err
		}
	}
	return e, nil
}

func (b *Builder) buildSubscript(e Expr, idx *pg_query.A_Indices) (Expr, error) {
	t := e.Type()
	switch t.Family() {
	case types.ArrayFamily:
	case types.JSONFamily:
		if idx.IsSlice {
			return nil, sqlerr.New(sqlerr.CodeDatatypeMismatch, "jsonb subscript does not support slices")
		}
		k, err := b.build(idx.Uidx)
		if err != nil {
			return nil, err
		}
		if isUnknown(k.Type()) {
			if k, err = b.coerceUnknown(k, types.Text, types.CoercionImplicit); err != nil {
				return nil, err
			}
		}
		return b.BuildBinary("->", e, k)
	default:
		return nil, sqlerr.Newf(sqlerr.CodeDatatypeMismatch, "cannot subscript type %s because it does not support subscripting", t.Name())
	}
	bound := func(n *pg_query.Node) (Expr, error) {
		if n == nil {
			return nil, nil
		}
		x, err := b.build(n)
		if err != nil {
			return nil, err
		}
		if !canCoerceImplicit(x.Type(), types.Int4) {
			return nil, sqlerr.Newf(sqlerr.CodeDatatypeMismatch, "array subscript must have type integer")
		}
		return b.coerce(x, types.Int4)
	}
	lo, err := bound(idx.Lidx)
	if err != nil {
		return nil, err
	}
	hi, err := bound(idx.Uidx)
	if err != nil {
		return nil, err
	}
	if !idx.IsSlice {
		return &FuncExpr{Name: "subscript", Args: []Expr{e, hi}, typ: t.Elem(), fn: arrayIndex, strict: true}, nil
	}
	args := []Expr{e}
	hasLo, hasHi := lo != nil, hi != nil
	if hasLo {
		args = append(args, lo)
	}
	if hasHi {
		args = append(args, hi)
	}
	fn := func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		arr := a[0].(*types.DArray)
		from, to := int64(1), int64(len(arr.Elems))
		i := 1
		if hasLo {
			from = int64(a[i].(types.DInt))
			i++
		}
		if hasHi {
			to = int64(a[i].(types.DInt))
		}
		from = max(from, 1)
		to = min(to, int64(len(arr.Elems)))
		if from > to {
			return types.NewDArray(arr.Elem, nil), nil
		}
		return types.NewDArray(arr.Elem, append([]types.Datum(nil), arr.Elems[from-1:to]...)), nil
	}
	return &FuncExpr{Name: "slice", Args: args, typ: t, fn: fn, strict: true}, nil
}

func arrayIndex(_ *EvalContext, a []types.Datum) (types.Datum, error) {
	arr, i := a[0].(*types.DArray), int64(a[1].(types.DInt))
	if i < 1 || i > int64(len(arr.Elems)) {
		return types.DNull, nil
	}
	return arr.Elems[i-1], nil
}

// arrayToString is array_to_string(arr, delim[, nullString]).
func arrayToString(ctx *EvalContext, arr *types.DArray, elem *types.Type, delim string, nullStr *string) (types.Datum, error) {
	var sb strings.Builder
	first := true
	for _, e := range arr.Elems {
		var s string
		if e == types.DNull {
			if nullStr == nil {
				continue
			}
			s = *nullStr
		} else {
			s = types.FormatText(e, elem, ctx.settings())
		}
		if !first {
			sb.WriteString(delim)
		}
		first = false
		sb.WriteString(s)
		if sb.Len() > maxResultBytes {
			return nil, errTooLarge()
		}
	}
	return types.DString(sb.String()), nil
}
