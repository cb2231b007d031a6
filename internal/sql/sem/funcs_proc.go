package sem

import (
	"sort"
	"strings"
	"sync"

	"github.com/cairndb/cairn/internal/sql/types"
)

// Proc is one overload of a built-in function, as pg_catalog.pg_proc
// lists it (psql's \df reads it).
type Proc struct {
	Oid    uint32
	Name   string
	Args   []*types.Type
	Result *types.Type
	// Volatility is pg_proc.provolatile: "i", "s" or "v".
	Volatility string
}

// firstProcOid is the oid of the first built-in function in pg_proc; the
// others follow in name order. They are stable for a given binary only.
const firstProcOid = 100000

// procs lists the overloads of the built-in functions with a name (not
// operators, not the functions with their own typing rules), sorted by
// name then arguments.
var procs = sync.OnceValue(func() []Proc {
	var out []Proc
	for name, bi := range builtins {
		if name == "" || !isProcName(name) {
			continue
		}
		for _, o := range bi.overloads {
			if o.cmp || o.ret == nil || o.ret.Family() == types.UnknownFamily {
				continue
			}
			ok := true
			for _, a := range o.args {
				if a == nil {
					ok = false
				}
			}
			if ok {
				vol := "i"
				switch o.vol {
				case Stable:
					vol = "s"
				case Volatile:
					vol = "v"
				}
				out = append(out, Proc{Name: name, Args: o.args, Result: o.ret, Volatility: vol})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return procArgs(out[i]) < procArgs(out[j])
	})
	for i := range out {
		out[i].Oid = firstProcOid + uint32(i)
	}
	return out
})

func isProcName(name string) bool {
	for i, r := range name {
		switch {
		case r == '_' || r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// Procs returns the built-in functions for pg_proc.
func Procs() []Proc { return procs() }

func procByOid(oid uint32) (Proc, bool) {
	ps := procs()
	if oid < firstProcOid || oid-firstProcOid >= uint32(len(ps)) {
		return Proc{}, false
	}
	return ps[oid-firstProcOid], true
}

func procArgs(p Proc) string {
	names := make([]string, len(p.Args))
	for i, a := range p.Args {
		names[i] = a.Name()
	}
	return strings.Join(names, ", ")
}

func init() {
	O, T := types.OidType, types.Text
	procText := func(f func(Proc) string) evalFn {
		return func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			p, ok := procByOid(uint32(a[0].(types.DOid)))
			if !ok {
				return types.DNull, nil
			}
			return types.DString(f(p)), nil
		}
	}
	def("pg_get_function_result", tt(O), T, procText(func(p Proc) string { return p.Result.Name() })).vol = Stable
	def("pg_get_function_arguments", tt(O), T, procText(procArgs)).vol = Stable
	def("pg_get_function_identity_arguments", tt(O), T, procText(procArgs)).vol = Stable
	sqlBody := def("pg_get_function_sqlbody", tt(O), T, func(*EvalContext, []types.Datum) (types.Datum, error) { return types.DNull, nil })
	sqlBody.vol, sqlBody.nonStrict = Stable, true
}
