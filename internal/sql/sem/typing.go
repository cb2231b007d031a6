package sem

import (
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// Type categories, as pg_type.typcategory: implicit conversions and
// operator resolution prefer to stay within one.
const (
	catArray    = 'A'
	catBool     = 'B'
	catDateTime = 'D'
	catNumeric  = 'N'
	catString   = 'S'
	catTimespan = 'T'
	catUser     = 'U'
	catUnknown  = 'X'
)

func category(t *types.Type) byte {
	switch t.Family() {
	case types.BoolFamily:
		return catBool
	case types.IntFamily, types.FloatFamily, types.NumericFamily, types.OidFamily:
		return catNumeric
	case types.StringFamily:
		return catString
	case types.DateFamily, types.TimestampFamily, types.TimestampTZFamily:
		return catDateTime
	case types.IntervalFamily:
		return catTimespan
	case types.ArrayFamily:
		return catArray
	case types.UnknownFamily:
		return catUnknown
	}
	return catUser
}

// preferred reports whether t is the preferred type of its category
// (pg_type.typispreferred).
func preferred(t *types.Type) bool {
	switch t.Oid() {
	case types.OidBool, types.OidFloat8, types.OidText, types.OidTimestampTZ, types.OidInterval:
		return true
	}
	return false
}

func isUnknown(t *types.Type) bool { return t.Family() == types.UnknownFamily }

// sameType reports whether a and b are one type, modifiers aside.
func sameType(a, b *types.Type) bool {
	if a.Family() == types.ArrayFamily && b.Family() == types.ArrayFamily {
		return sameType(a.Elem(), b.Elem())
	}
	return a.Oid() == b.Oid()
}

// canCoerceImplicit reports whether a value of type from may be used where
// to is expected without a cast: unknown to anything, or an implicit cast.
func canCoerceImplicit(from, to *types.Type) bool {
	return isUnknown(from) || sameType(from, to) || types.CanCast(from, to, types.CoercionImplicit)
}

// CommonType picks the type that values of ts are converted to when they
// meet in one result: CASE branches, COALESCE, IN lists, ARRAY[...],
// UNION and VALUES columns. It follows PostgreSQL's select_common_type:
// unknown inputs are ignored (all unknown gives text); the others must be
// of one category; a later type wins when the candidate converts to it
// implicitly but not back, unless the candidate is the category's
// preferred type. context names the construct in the 42804 error: "CASE
// types integer and text cannot be matched".
func CommonType(ts []*types.Type, context string) (*types.Type, error) {
	var cand *types.Type
	allSame := true
	for _, t := range ts {
		if isUnknown(t) {
			continue
		}
		if cand == nil {
			cand = t
			continue
		}
		if !t.Identical(cand) {
			allSame = false
		}
	}
	if cand == nil {
		return types.Text, nil
	}
	if allSame {
		return cand, nil
	}
	cand = cand.WithoutModifiers()
	candPref := preferred(cand)
	for _, t := range ts {
		if isUnknown(t) {
			continue
		}
		t = t.WithoutModifiers()
		if sameType(t, cand) {
			continue
		}
		if category(t) != category(cand) {
			return nil, sqlerr.Newf(sqlerr.CodeDatatypeMismatch, "%s types %s and %s cannot be matched", context, cand.Name(), t.Name())
		}
		if !candPref && canCoerceImplicit(cand, t) && !canCoerceImplicit(t, cand) {
			cand, candPref = t, preferred(t)
		}
	}
	for _, t := range ts {
		if !canCoerceImplicit(t, cand) {
			return nil, sqlerr.Newf(sqlerr.CodeDatatypeMismatch, "%s could not convert type %s to %s", context, t.Name(), cand.Name())
		}
	}
	return cand, nil
}

// overload is one signature of a built-in function or operator.
type overload struct {
	args []*types.Type
	ret  *types.Type
	fn   evalFn
	// nonStrict: fn is called with NULL arguments too.
	nonStrict bool
	vol       Volatility
	// cmp: a comparison operator, built as a CompareExpr.
	cmp bool
}

// resolveOverload picks the overload of cands that args (their types)
// call, as PostgreSQL's func_select_candidate does. binaryOp enables the
// operator rule that an unknown operand is first assumed to have the type
// of the other. It returns nil with ambiguous false when no candidate
// fits, and nil with ambiguous true when several fit equally well.
func resolveOverload(cands []*overload, args []*types.Type, binaryOp bool) (best *overload, ambiguous bool) {
	var arity []*overload
	for _, c := range cands {
		if len(c.args) == len(args) {
			arity = append(arity, c)
		}
	}
	// Exact match (unknown matching anything only through the binary
	// operator rule).
	probe := args
	if binaryOp && len(args) == 2 {
		switch {
		case isUnknown(args[0]) && !isUnknown(args[1]):
			probe = []*types.Type{args[1], args[1]}
		case isUnknown(args[1]) && !isUnknown(args[0]):
			probe = []*types.Type{args[0], args[0]}
		}
	}
	for _, c := range arity {
		exact := true
		for i, a := range probe {
			if !sameType(a, c.args[i]) {
				exact = false
				break
			}
		}
		if exact {
			return c, false
		}
	}
	// Candidates every argument converts to implicitly.
	var cs []*overload
	for _, c := range arity {
		ok := true
		for i, a := range args {
			if !canCoerceImplicit(a, c.args[i]) {
				ok = false
				break
			}
		}
		if ok {
			cs = append(cs, c)
		}
	}
	if len(cs) <= 1 {
		if len(cs) == 1 {
			return cs[0], false
		}
		return nil, false
	}
	// Most exact matches on the known arguments.
	cs = keepBest(cs, func(c *overload) int {
		n := 0
		for i, a := range args {
			if !isUnknown(a) && sameType(a, c.args[i]) {
				n++
			}
		}
		return n
	})
	if len(cs) == 1 {
		return cs[0], false
	}
	// Most positions that take the argument's type or the preferred type
	// of its category.
	cs = keepBest(cs, func(c *overload) int {
		n := 0
		for i, a := range args {
			if isUnknown(a) {
				continue
			}
			if sameType(a, c.args[i]) || (preferred(c.args[i]) && category(c.args[i]) == category(a)) {
				n++
			}
		}
		return n
	})
	if len(cs) == 1 {
		return cs[0], false
	}
	// Unknown arguments: choose a category per position (string wins),
	// and the preferred type within it if any candidate takes it.
	nUnknown := 0
	for _, a := range args {
		if isUnknown(a) {
			nUnknown++
		}
	}
	if nUnknown > 0 {
		resolved := true
		slotCat := make([]byte, len(args))
		slotPref := make([]bool, len(args))
		for i, a := range args {
			if !isUnknown(a) {
				continue
			}
			conflict := false
			for _, c := range cs {
				cat, pref := category(c.args[i]), preferred(c.args[i])
				switch {
				case slotCat[i] == 0:
					slotCat[i], slotPref[i] = cat, pref
				case cat == slotCat[i]:
					slotPref[i] = slotPref[i] || pref
				case cat == catString:
					slotCat[i], slotPref[i] = cat, pref
				case slotCat[i] != catString:
					conflict = true
				}
			}
			if conflict && slotCat[i] != catString {
				resolved = false
				break
			}
		}
		if resolved {
			var keep []*overload
			for _, c := range cs {
				ok := true
				for i, a := range args {
					if !isUnknown(a) {
						continue
					}
					if category(c.args[i]) != slotCat[i] || (slotPref[i] && !preferred(c.args[i])) {
						ok = false
						break
					}
				}
				if ok {
					keep = append(keep, c)
				}
			}
			if len(keep) == 1 {
				return keep[0], false
			}
			if len(keep) > 0 {
				cs = keep
			}
		}
		// All known arguments of one type: assume the unknowns have it.
		if nUnknown < len(args) {
			var known *types.Type
			same := true
			for _, a := range args {
				if isUnknown(a) {
					continue
				}
				if known == nil {
					known = a
				} else if !sameType(known, a) {
					same = false
				}
			}
			if same {
				var keep []*overload
				for _, c := range cs {
					ok := true
					for i, a := range args {
						if isUnknown(a) && !canCoerceImplicit(known, c.args[i]) {
							ok = false
							break
						}
					}
					if ok {
						keep = append(keep, c)
					}
				}
				if len(keep) == 1 {
					return keep[0], false
				}
			}
		}
	}
	return nil, true
}

func keepBest(cs []*overload, score func(*overload) int) []*overload {
	best := -1
	var out []*overload
	for _, c := range cs {
		switch s := score(c); {
		case s > best:
			best, out = s, append(out[:0:0], c)
		case s == best:
			out = append(out, c)
		}
	}
	return out
}
