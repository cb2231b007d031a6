package sem

import (
	"crypto/rand"
	"strings"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

func init() {
	T, J, I4 := types.Text, types.JSONB, types.Int4
	// System information.
	def("version", nil, T, func(ctx *EvalContext, _ []types.Datum) (types.Datum, error) {
		return types.DString(ctx.session().Version), nil
	}).vol = Stable
	def("current_database", nil, types.Name, currentDatabase).vol = Stable
	def("current_catalog", nil, types.Name, currentDatabase).vol = Stable
	def("current_schema", nil, types.Name, currentSchema).vol = Stable
	def("current_user", nil, types.Name, func(ctx *EvalContext, _ []types.Datum) (types.Datum, error) {
		return types.DString(ctx.session().User), nil
	}).vol = Stable
	def("gen_random_uuid", nil, types.UUID, func(*EvalContext, []types.Datum) (types.Datum, error) {
		var u types.DUUID
		if _, err := rand.Read(u[:]); err != nil {
			return nil, sqlerr.Internalf("gen_random_uuid: %v", err)
		}
		u[6] = u[6]&0x0f | 0x40 // version 4
		u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
		return u, nil
	}).vol = Volatile
	defAlias("uuid_generate_v4", "gen_random_uuid")
	def("format_type", tt(types.OidType, I4), T, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		if a[0] == types.DNull {
			return types.DNull, nil
		}
		typmod := int32(-1)
		if a[1] != types.DNull {
			typmod = int32(a[1].(types.DInt))
		}
		t, err := types.TypeByOid(types.Oid(a[0].(types.DOid)), typmod)
		if err != nil {
			return types.DString("???"), nil
		}
		return types.DString(t.Name()), nil
	}).nonStrict = true
	defCustom("pg_typeof", func(b *Builder, name string, args []Expr) (Expr, error) {
		if len(args) != 1 {
			return nil, errUndefinedFunction(name, exprTypes(args))
		}
		tn := types.DString(args[0].Type().Name())
		return newCall(name, args, types.Text, func(*EvalContext, []types.Datum) (types.Datum, error) { return tn, nil }, false, Immutable), nil
	})
	defCustom("coalesce", func(b *Builder, name string, args []Expr) (Expr, error) {
		args, t, err := b.unifyExprs(args, "COALESCE")
		if err != nil {
			return nil, err
		}
		return &CoalesceExpr{Args: args, Typ: t}, nil
	})
	defCustom("nullif", func(b *Builder, name string, args []Expr) (Expr, error) {
		if len(args) != 2 {
			return nil, errUndefinedFunction(name, exprTypes(args))
		}
		return b.buildNullIf(args[0], args[1])
	})
	for _, n := range []string{"greatest", "least"} {
		greatest := n == "greatest"
		defCustom(n, func(b *Builder, name string, args []Expr) (Expr, error) {
			args, t, err := b.unifyExprs(args, strings.ToUpper(name))
			if err != nil {
				return nil, err
			}
			return &MinMaxExpr{Greatest: greatest, Args: args, Typ: t}, nil
		})
	}
	defCustom("num_nulls", buildNumNulls)
	defCustom("num_nonnulls", buildNumNulls)

	// JSON.
	typeofFn := func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return types.DString(jsonTypeName(jsonOf(a[0]))), nil
	}
	def("jsonb_typeof", tt(J), T, typeofFn)
	def("json_typeof", tt(J), T, typeofFn)
	arrLen := func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		j := jsonOf(a[0])
		switch j.Kind {
		case types.JSONArray:
			return types.DInt(len(j.Elems)), nil
		case types.JSONObject:
			return nil, sqlerr.New(sqlerr.CodeInvalidParameterValue, "cannot get array length of a non-array")
		}
		return nil, sqlerr.New(sqlerr.CodeInvalidParameterValue, "cannot get array length of a scalar")
	}
	def("jsonb_array_length", tt(J), I4, arrLen)
	def("json_array_length", tt(J), I4, arrLen)
	def("jsonb_pretty", tt(J), T, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		var sb strings.Builder
		jsonPretty(jsonOf(a[0]), 0, &sb)
		return types.DString(sb.String()), nil
	})
	def("jsonb_strip_nulls", tt(J), J, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return mkJSON(jsonStripNulls(*jsonOf(a[0]))), nil
	})
	for _, n := range []string{"to_jsonb", "to_json"} {
		defCustom(n, func(b *Builder, name string, args []Expr) (Expr, error) {
			if len(args) != 1 {
				return nil, errUndefinedFunction(name, exprTypes(args))
			}
			a, err := b.resolveUnknownAsText(args[0])
			if err != nil {
				return nil, err
			}
			t := a.Type()
			return newCall(name, []Expr{a}, J, func(ctx *EvalContext, v []types.Datum) (types.Datum, error) {
				j, err := toJSON(ctx, v[0], t)
				if err != nil {
					return nil, err
				}
				return mkJSON(j), nil
			}, true, castVolatility(t, types.Text)), nil
		})
	}
	for _, n := range []string{"jsonb_build_object", "json_build_object"} {
		defCustom(n, buildJSONObject)
	}
	for _, n := range []string{"jsonb_build_array", "json_build_array"} {
		defCustom(n, buildJSONArray)
	}
	for _, n := range []string{"jsonb_extract_path", "jsonb_extract_path_text", "json_extract_path", "json_extract_path_text"} {
		asText := strings.HasSuffix(n, "_text")
		defCustom(n, func(b *Builder, name string, args []Expr) (Expr, error) {
			if len(args) < 1 {
				return nil, errUndefinedFunction(name, nil)
			}
			var err error
			if args[0], err = b.coerceArg(name, args, 0, J); err != nil {
				return nil, err
			}
			for i := 1; i < len(args); i++ {
				if args[i], err = b.coerceArg(name, args, i, T); err != nil {
					return nil, err
				}
			}
			ret := J
			if asText {
				ret = T
			}
			return newCall(name, args, ret, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
				if a[0] == types.DNull {
					return types.DNull, nil
				}
				path := types.NewDArray(T, a[1:])
				j := jsonPath(jsonOf(a[0]), path)
				if asText {
					return jsonText(j), nil
				}
				return jsonOrNull(j), nil
			}, false, Immutable), nil
		})
	}

	// Arrays.
	defCustom("array_length", buildArrayFn)
	defCustom("array_upper", buildArrayFn)
	defCustom("array_lower", buildArrayFn)
	defCustom("cardinality", buildArrayFn)
	defCustom("array_ndims", buildArrayFn)
	defCustom("array_append", buildArrayFn)
	defCustom("array_prepend", buildArrayFn)
	defCustom("array_cat", buildArrayFn)
	defCustom("array_position", buildArrayFn)
	defCustom("array_remove", buildArrayFn)
	defCustom("array_to_string", buildArrayFn)
}

// coerceArg converts argument i of name to t, or fails as an unknown
// function signature would.
func (b *Builder) coerceArg(name string, args []Expr, i int, t *types.Type) (Expr, error) {
	if !canCoerceImplicit(args[i].Type(), t) {
		return nil, errUndefinedFunction(name, exprTypes(args))
	}
	return b.coerce(args[i], t)
}

func buildNumNulls(b *Builder, name string, args []Expr) (Expr, error) {
	nulls := name == "num_nulls"
	return newCall(name, args, types.Int4, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		n := 0
		for _, v := range a {
			if (v == types.DNull) == nulls {
				n++
			}
		}
		return types.DInt(n), nil
	}, false, Immutable), nil
}

func buildJSONObject(b *Builder, name string, args []Expr) (Expr, error) {
	if len(args)%2 != 0 {
		return nil, sqlerr.New(sqlerr.CodeInvalidParameterValue, "argument list must have even number of elements").
			WithHint("The arguments of %s() must consist of alternating keys and values.", name)
	}
	vol := Immutable
	for i := range args {
		var err error
		if args[i], err = b.resolveUnknownAsText(args[i]); err != nil {
			return nil, err
		}
		vol = max(vol, castVolatility(args[i].Type(), types.Text))
	}
	ts := exprTypes(args)
	return newCall(name, args, types.JSONB, func(ctx *EvalContext, a []types.Datum) (types.Datum, error) {
		keys := make([]string, 0, len(a)/2)
		vals := make([]types.JSON, 0, len(a)/2)
		for i := 0; i < len(a); i += 2 {
			if a[i] == types.DNull {
				return nil, sqlerr.Newf(sqlerr.CodeNullValueNotAllowed, "argument %d: key must not be null", i+1)
			}
			keys = append(keys, types.FormatText(a[i], ts[i], ctx.settings()))
			v, err := toJSON(ctx, a[i+1], ts[i+1])
			if err != nil {
				return nil, err
			}
			vals = append(vals, v)
		}
		return mkJSON(types.MakeJSONObject(keys, vals)), nil
	}, false, vol), nil
}

func buildJSONArray(b *Builder, name string, args []Expr) (Expr, error) {
	vol := Immutable
	for i := range args {
		var err error
		if args[i], err = b.resolveUnknownAsText(args[i]); err != nil {
			return nil, err
		}
		vol = max(vol, castVolatility(args[i].Type(), types.Text))
	}
	ts := exprTypes(args)
	return newCall(name, args, types.JSONB, func(ctx *EvalContext, a []types.Datum) (types.Datum, error) {
		elems := make([]types.JSON, len(a))
		for i, v := range a {
			var err error
			if elems[i], err = toJSON(ctx, v, ts[i]); err != nil {
				return nil, err
			}
		}
		return mkJSON(types.JSON{Kind: types.JSONArray, Elems: elems}), nil
	}, false, vol), nil
}

// buildArrayFn builds the array functions, whose argument types depend on
// one another (anyarray, anyelement).
func buildArrayFn(b *Builder, name string, args []Expr) (Expr, error) {
	bad := func() (Expr, error) { return nil, errUndefinedFunction(name, exprTypes(args)) }
	nargs := map[string][]int{"array_length": {2}, "array_upper": {2}, "array_lower": {2}, "cardinality": {1},
		"array_ndims": {1}, "array_append": {2}, "array_prepend": {2}, "array_cat": {2}, "array_position": {2},
		"array_remove": {2}, "array_to_string": {2, 3}}[name]
	okN := false
	for _, n := range nargs {
		okN = okN || n == len(args)
	}
	if !okN {
		return bad()
	}
	arrIdx := 0
	if name == "array_prepend" {
		arrIdx = 1
	}
	var err error
	if isUnknown(args[arrIdx].Type()) {
		return nil, sqlerr.Newf(codeIndeterminateDatatype, "could not determine polymorphic type because input has type unknown")
	}
	at := args[arrIdx].Type()
	if at.Family() != types.ArrayFamily {
		return bad()
	}
	elem := at.Elem()
	switch name {
	case "array_length", "array_upper", "array_lower":
		if args[1], err = b.coerceArg(name, args, 1, types.Int4); err != nil {
			return nil, err
		}
		return newCall(name, args, types.Int4, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			arr := a[0].(*types.DArray)
			if int64(a[1].(types.DInt)) != 1 || len(arr.Elems) == 0 {
				return types.DNull, nil
			}
			if name == "array_lower" {
				return types.DInt(1), nil
			}
			return types.DInt(len(arr.Elems)), nil
		}, true, Immutable), nil
	case "cardinality":
		return newCall(name, args, types.Int4, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			return types.DInt(len(a[0].(*types.DArray).Elems)), nil
		}, true, Immutable), nil
	case "array_ndims":
		return newCall(name, args, types.Int4, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			if len(a[0].(*types.DArray).Elems) == 0 {
				return types.DNull, nil
			}
			return types.DInt(1), nil
		}, true, Immutable), nil
	case "array_append", "array_prepend", "array_cat":
		l, r := args[0], args[1]
		return b.buildArrayConcat(l, r)
	case "array_position", "array_remove":
		if args[1], err = b.coerceArg(name, args, 1, elem); err != nil {
			return nil, err
		}
		remove := name == "array_remove"
		ret := types.Int4
		if remove {
			ret = at
		}
		return newCall(name, args, ret, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			if a[0] == types.DNull {
				return types.DNull, nil
			}
			arr := a[0].(*types.DArray)
			var out []types.Datum
			for i, e := range arr.Elems {
				eq := types.Compare(e, a[1]) == 0 // NULL finds NULL, as IS NOT DISTINCT FROM
				if !remove && eq {
					return types.DInt(i + 1), nil
				}
				if remove && !eq {
					out = append(out, e)
				}
			}
			if remove {
				return types.NewDArray(arr.Elem, out), nil
			}
			return types.DNull, nil
		}, false, Immutable), nil
	case "array_to_string":
		for i := 1; i < len(args); i++ {
			if args[i], err = b.coerceArg(name, args, i, types.Text); err != nil {
				return nil, err
			}
		}
		return newCall(name, args, types.Text, func(ctx *EvalContext, a []types.Datum) (types.Datum, error) {
			if a[0] == types.DNull || a[1] == types.DNull {
				return types.DNull, nil
			}
			var nullStr *string
			if len(a) > 2 && a[2] != types.DNull {
				s := str(a[2])
				nullStr = &s
			}
			return arrayToString(ctx, a[0].(*types.DArray), elem, str(a[1]), nullStr)
		}, false, castVolatility(elem, types.Text)), nil
	}
	return bad()
}
