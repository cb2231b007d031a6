package sem

import (
	"math"
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

func jsonOf(d types.Datum) *types.JSON { return &d.(*types.DJSON).JSON }

func mkJSON(j types.JSON) types.Datum { return &types.DJSON{JSON: j} }

// jsonField returns the value of key in object j, or nil.
func jsonField(j *types.JSON, key string) *types.JSON {
	if j.Kind != types.JSONObject {
		return nil
	}
	for i, k := range j.Keys {
		if k == key {
			return &j.Vals[i]
		}
	}
	return nil
}

// jsonElem returns element i of array j (negative counts from the end),
// or nil.
func jsonElem(j *types.JSON, i int64) *types.JSON {
	if j.Kind != types.JSONArray {
		return nil
	}
	if i < 0 {
		i += int64(len(j.Elems))
	}
	if i < 0 || i >= int64(len(j.Elems)) {
		return nil
	}
	return &j.Elems[i]
}

// jsonText is ->>'s output: a string unquoted, null as SQL NULL, anything
// else as JSON text.
func jsonText(j *types.JSON) types.Datum {
	switch {
	case j == nil || j.Kind == types.JSONNull:
		return types.DNull
	case j.Kind == types.JSONString:
		return types.DString(j.Str)
	}
	return types.DString(j.String())
}

func jsonOrNull(j *types.JSON) types.Datum {
	if j == nil {
		return types.DNull
	}
	return mkJSON(*j)
}

// jsonPath follows a #> path: keys for objects, integers for arrays.
func jsonPath(j *types.JSON, path *types.DArray) *types.JSON {
	for _, p := range path.Elems {
		if p == types.DNull {
			return nil
		}
		s := string(p.(types.DString))
		switch j.Kind {
		case types.JSONObject:
			j = jsonField(j, s)
		case types.JSONArray:
			i, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
			if err != nil {
				return nil
			}
			j = jsonElem(j, i)
		default:
			return nil
		}
		if j == nil {
			return nil
		}
	}
	return j
}

func jsonScalar(j *types.JSON) bool { return j.Kind != types.JSONArray && j.Kind != types.JSONObject }

// jsonContains is @>: PostgreSQL's JsonbDeepContains, with its top-level
// rule that an array contains a scalar that is one of its elements.
func jsonContains(a, b *types.JSON, top bool) bool {
	if a.Kind != b.Kind {
		if top && a.Kind == types.JSONArray && jsonScalar(b) {
			for i := range a.Elems {
				if jsonScalar(&a.Elems[i]) && types.CompareJSON(&a.Elems[i], b) == 0 {
					return true
				}
			}
		}
		return false
	}
	switch a.Kind {
	case types.JSONObject:
		for i, k := range b.Keys {
			va := jsonField(a, k)
			if va == nil {
				return false
			}
			vb := &b.Vals[i]
			if jsonScalar(vb) {
				if types.CompareJSON(va, vb) != 0 {
					return false
				}
			} else if va.Kind != vb.Kind || !jsonContains(va, vb, false) {
				return false
			}
		}
		return true
	case types.JSONArray:
		for i := range b.Elems {
			eb := &b.Elems[i]
			found := false
			for k := range a.Elems {
				ea := &a.Elems[k]
				if jsonScalar(eb) {
					found = jsonScalar(ea) && types.CompareJSON(ea, eb) == 0
				} else {
					found = ea.Kind == eb.Kind && jsonContains(ea, eb, false)
				}
				if found {
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	}
	return types.CompareJSON(a, b) == 0
}

// jsonExists is ?: a key of an object, a string element of an array, or
// the string itself.
func jsonExists(j *types.JSON, key string) bool {
	switch j.Kind {
	case types.JSONObject:
		return jsonField(j, key) != nil
	case types.JSONArray:
		for i := range j.Elems {
			if j.Elems[i].Kind == types.JSONString && j.Elems[i].Str == key {
				return true
			}
		}
		return false
	case types.JSONString:
		return j.Str == key
	}
	return false
}

func jsonConcat(_ *EvalContext, a []types.Datum) (types.Datum, error) {
	x, y := jsonOf(a[0]), jsonOf(a[1])
	if x.Kind == types.JSONObject && y.Kind == types.JSONObject {
		keys := append(append([]string(nil), x.Keys...), y.Keys...)
		vals := append(append([]types.JSON(nil), x.Vals...), y.Vals...)
		return mkJSON(types.MakeJSONObject(keys, vals)), nil
	}
	elems := func(j *types.JSON) []types.JSON {
		if j.Kind == types.JSONArray {
			return j.Elems
		}
		return []types.JSON{*j}
	}
	out := append(append([]types.JSON(nil), elems(x)...), elems(y)...)
	return mkJSON(types.JSON{Kind: types.JSONArray, Elems: out}), nil
}

func jsonDeleteKeys(j *types.JSON, keys map[string]bool) types.Datum {
	switch j.Kind {
	case types.JSONObject:
		var ks []string
		var vs []types.JSON
		for i, k := range j.Keys {
			if !keys[k] {
				ks = append(ks, k)
				vs = append(vs, j.Vals[i])
			}
		}
		return mkJSON(types.JSON{Kind: types.JSONObject, Keys: ks, Vals: vs})
	case types.JSONArray:
		var es []types.JSON
		for _, e := range j.Elems {
			if e.Kind == types.JSONString && keys[e.Str] {
				continue
			}
			es = append(es, e)
		}
		return mkJSON(types.JSON{Kind: types.JSONArray, Elems: es})
	}
	return mkJSON(*j)
}

func textArrayStrings(d types.Datum) []string {
	var out []string
	for _, e := range d.(*types.DArray).Elems {
		if e != types.DNull {
			out = append(out, string(e.(types.DString)))
		}
	}
	return out
}

func addJSONOps() {
	j, txt, i4, txtArr := types.JSONB, types.Text, types.Int4, types.TextArray
	addBinary("->", j, txt, j, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return jsonOrNull(jsonField(jsonOf(a[0]), string(a[1].(types.DString)))), nil
	})
	addBinary("->", j, i4, j, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return jsonOrNull(jsonElem(jsonOf(a[0]), int64(a[1].(types.DInt)))), nil
	})
	addBinary("->>", j, txt, txt, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return jsonText(jsonField(jsonOf(a[0]), string(a[1].(types.DString)))), nil
	})
	addBinary("->>", j, i4, txt, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return jsonText(jsonElem(jsonOf(a[0]), int64(a[1].(types.DInt)))), nil
	})
	addBinary("#>", j, txtArr, j, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return jsonOrNull(jsonPath(jsonOf(a[0]), a[1].(*types.DArray))), nil
	})
	addBinary("#>>", j, txtArr, txt, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return jsonText(jsonPath(jsonOf(a[0]), a[1].(*types.DArray))), nil
	})
	addBinary("@>", j, j, types.Bool, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return types.MakeDBool(jsonContains(jsonOf(a[0]), jsonOf(a[1]), true)), nil
	})
	addBinary("<@", j, j, types.Bool, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return types.MakeDBool(jsonContains(jsonOf(a[1]), jsonOf(a[0]), true)), nil
	})
	addBinary("?", j, txt, types.Bool, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return types.MakeDBool(jsonExists(jsonOf(a[0]), string(a[1].(types.DString)))), nil
	})
	addBinary("?|", j, txtArr, types.Bool, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		for _, k := range textArrayStrings(a[1]) {
			if jsonExists(jsonOf(a[0]), k) {
				return types.DTrue, nil
			}
		}
		return types.DFalse, nil
	})
	addBinary("?&", j, txtArr, types.Bool, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		for _, k := range textArrayStrings(a[1]) {
			if !jsonExists(jsonOf(a[0]), k) {
				return types.DFalse, nil
			}
		}
		return types.DTrue, nil
	})
	addBinary("-", j, txt, j, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return jsonDeleteKeys(jsonOf(a[0]), map[string]bool{string(a[1].(types.DString)): true}), nil
	})
	addBinary("-", j, txtArr, j, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		keys := map[string]bool{}
		for _, k := range textArrayStrings(a[1]) {
			keys[k] = true
		}
		return jsonDeleteKeys(jsonOf(a[0]), keys), nil
	})
	addBinary("-", j, i4, j, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		x := jsonOf(a[0])
		switch x.Kind {
		case types.JSONObject:
			return nil, sqlerr.New(sqlerr.CodeInvalidParameterValue, "cannot delete from object using integer index")
		case types.JSONArray:
		default:
			return nil, sqlerr.New(sqlerr.CodeInvalidParameterValue, "cannot delete from scalar")
		}
		i := int64(a[1].(types.DInt))
		if i < 0 {
			i += int64(len(x.Elems))
		}
		if i < 0 || i >= int64(len(x.Elems)) {
			return a[0], nil
		}
		es := append(append([]types.JSON(nil), x.Elems[:i]...), x.Elems[i+1:]...)
		return mkJSON(types.JSON{Kind: types.JSONArray, Elems: es}), nil
	})
}

// toJSON converts a value of type t to jsonb as to_jsonb does.
func toJSON(ctx *EvalContext, d types.Datum, t *types.Type) (types.JSON, error) {
	switch v := d.(type) {
	case nil:
		return types.JSON{Kind: types.JSONNull}, nil
	case types.DBool:
		return types.JSON{Kind: types.JSONBool, Bool: bool(v)}, nil
	case types.DInt:
		n, err := types.NewDDecimal(apd.New(int64(v), 0))
		if err != nil {
			return types.JSON{}, err
		}
		return types.JSON{Kind: types.JSONNumber, Num: n}, nil
	case types.DFloat:
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return types.JSON{Kind: types.JSONString, Str: types.FormatText(v, t, nil)}, nil
		}
		n, err := types.ParseText(types.FormatText(v, t, nil), types.Numeric, nil)
		if err != nil {
			return types.JSON{}, err
		}
		return types.JSON{Kind: types.JSONNumber, Num: n.(*types.DDecimal)}, nil
	case *types.DDecimal:
		if v.Form != apd.Finite {
			return types.JSON{Kind: types.JSONString, Str: types.FormatText(v, t, nil)}, nil
		}
		return types.JSON{Kind: types.JSONNumber, Num: v}, nil
	case types.DString:
		return types.JSON{Kind: types.JSONString, Str: types.FormatText(v, t, nil)}, nil
	case *types.DJSON:
		return v.JSON, nil
	case types.DTimestamp, types.DTimestampTZ:
		s := types.FormatText(v, t, ctx.settings())
		if i := strings.IndexByte(s, ' '); i > 0 && !strings.HasSuffix(s, "infinity") {
			s = s[:i] + "T" + s[i+1:]
			if _, tz := v.(types.DTimestampTZ); tz {
				// An offset "+05" becomes "+05:00", as XSD wants.
				if k := strings.LastIndexAny(s, "+-"); k > 10 && len(s)-k == 3 {
					s += ":00"
				}
			}
		}
		return types.JSON{Kind: types.JSONString, Str: s}, nil
	case *types.DArray:
		elems := make([]types.JSON, len(v.Elems))
		et := v.Elem
		if t != nil && t.Family() == types.ArrayFamily {
			et = t.Elem()
		}
		for i, e := range v.Elems {
			var err error
			if e == types.DNull {
				elems[i] = types.JSON{Kind: types.JSONNull}
				continue
			}
			if elems[i], err = toJSON(ctx, e, et); err != nil {
				return types.JSON{}, err
			}
		}
		return types.JSON{Kind: types.JSONArray, Elems: elems}, nil
	}
	if d == types.DNull {
		return types.JSON{Kind: types.JSONNull}, nil
	}
	return types.JSON{Kind: types.JSONString, Str: types.FormatText(d, t, ctx.settings())}, nil
}

func jsonTypeName(j *types.JSON) string {
	return [...]string{"null", "string", "number", "boolean", "array", "object"}[j.Kind]
}

// jsonPretty is jsonb_pretty: four-space indentation.
func jsonPretty(j *types.JSON, indent int, sb *strings.Builder) {
	pad := func(n int) { sb.WriteString(strings.Repeat("    ", n)) }
	switch j.Kind {
	case types.JSONObject:
		if len(j.Keys) == 0 {
			sb.WriteString("{\n")
			pad(indent)
			sb.WriteString("}")
			return
		}
		sb.WriteString("{\n")
		for i, k := range j.Keys {
			pad(indent + 1)
			sb.WriteString(types.JSON{Kind: types.JSONString, Str: k}.String())
			sb.WriteString(": ")
			jsonPretty(&j.Vals[i], indent+1, sb)
			if i < len(j.Keys)-1 {
				sb.WriteString(",")
			}
			sb.WriteString("\n")
		}
		pad(indent)
		sb.WriteString("}")
	case types.JSONArray:
		if len(j.Elems) == 0 {
			sb.WriteString("[\n")
			pad(indent)
			sb.WriteString("]")
			return
		}
		sb.WriteString("[\n")
		for i := range j.Elems {
			pad(indent + 1)
			jsonPretty(&j.Elems[i], indent+1, sb)
			if i < len(j.Elems)-1 {
				sb.WriteString(",")
			}
			sb.WriteString("\n")
		}
		pad(indent)
		sb.WriteString("]")
	default:
		sb.WriteString(j.String())
	}
}

func jsonStripNulls(j types.JSON) types.JSON {
	switch j.Kind {
	case types.JSONObject:
		var ks []string
		var vs []types.JSON
		for i, k := range j.Keys {
			if j.Vals[i].Kind == types.JSONNull {
				continue
			}
			ks = append(ks, k)
			vs = append(vs, jsonStripNulls(j.Vals[i]))
		}
		return types.JSON{Kind: types.JSONObject, Keys: ks, Vals: vs}
	case types.JSONArray:
		es := make([]types.JSON, len(j.Elems))
		for i := range j.Elems {
			es[i] = jsonStripNulls(j.Elems[i])
		}
		return types.JSON{Kind: types.JSONArray, Elems: es}
	}
	return j
}
