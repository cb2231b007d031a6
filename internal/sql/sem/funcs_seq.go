package sem

import (
	"strconv"

	"github.com/cairndb/cairn/internal/sql/types"
)

// Sequence functions: volatile, served by EvalContext.Sequences.
func init() {
	T, I8 := types.Text, types.Int8
	def("nextval", tt(T), I8, func(ctx *EvalContext, a []types.Datum) (types.Datum, error) {
		s, err := ctx.sequences()
		if err != nil {
			return nil, err
		}
		v, err := s.NextVal(ctx.ctx(), string(a[0].(types.DString)))
		return types.DInt(v), err
	}).vol = Volatile
	def("currval", tt(T), I8, func(ctx *EvalContext, a []types.Datum) (types.Datum, error) {
		s, err := ctx.sequences()
		if err != nil {
			return nil, err
		}
		v, err := s.CurrVal(ctx.ctx(), string(a[0].(types.DString)))
		return types.DInt(v), err
	}).vol = Volatile
	setval := func(ctx *EvalContext, a []types.Datum) (types.Datum, error) {
		s, err := ctx.sequences()
		if err != nil {
			return nil, err
		}
		isCalled := true
		if len(a) > 2 {
			isCalled = bool(a[2].(types.DBool))
		}
		v, err := s.SetVal(ctx.ctx(), string(a[0].(types.DString)), int64(a[1].(types.DInt)), isCalled)
		return types.DInt(v), err
	}
	def("setval", tt(T, I8), I8, setval).vol = Volatile
	def("setval", tt(T, I8, types.Bool), I8, setval).vol = Volatile
	// The regclass forms ('s'::regclass is an oid): the oid goes as its
	// decimal text, which names the relation as regclass input does.
	for _, name := range []string{"nextval", "currval", "setval"} {
		for _, o := range builtins[name].overloads[:len(builtins[name].overloads)] {
			if o.args[0] != T {
				continue
			}
			args := append(tt(types.OidType), o.args[1:]...)
			fn := o.fn
			def(name, args, I8, func(ctx *EvalContext, a []types.Datum) (types.Datum, error) {
				b := append([]types.Datum{types.DString(strconv.FormatUint(uint64(a[0].(types.DOid)), 10))}, a[1:]...)
				return fn(ctx, b)
			}).vol = Volatile
		}
	}
}
