package sql

import (
	"context"
	"fmt"
	"slices"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/sql/catalog"
	"github.com/cairndb/cairn/internal/sql/rowenc"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// FOREIGN KEY constraints.
//
// A foreign key of a child table references the primary key or a unique
// index of a parent table (catalog.ForeignKey; the parent lists its
// children in ReferencedBy). Writes report their rows to the statement's
// fkChecker, which enforces the constraints once the statement's own rows
// are written, as PostgreSQL's RI triggers do at the end of a statement:
//
//   - a child row inserted, or updated to a new key without NULLs (MATCH
//     SIMPLE), must have its parent: the parent keys of the statement are
//     read together (one GetMany per round), by the parent's unique index;
//   - a parent row deleted, or updated to a new key, must no longer be
//     referenced (NO ACTION: unless another parent row has the key by then;
//     RESTRICT), or its children are deleted (ON DELETE CASCADE), updated
//     (ON UPDATE CASCADE) or get NULLs or their defaults (SET NULL, SET
//     DEFAULT), which are writes that are checked in turn. The children
//     are found through an index of the child whose leading columns are
//     the foreign key's, else by a scan of the child table.
//
// Under SERIALIZABLE the reads of these checks are validated at commit, so
// a child written concurrently with the deletion of its parent makes one
// of the two transactions fail with 40001 rather than leave an orphan.

// fkSpec is a FOREIGN KEY constraint as written: cols are the referencing
// columns (a column constraint's own column).
type fkSpec struct {
	con  *pg_query.Constraint
	cols []string
}

// foreignKeySpecs lists the FOREIGN KEY constraints of CREATE TABLE.
func foreignKeySpecs(cs *pg_query.CreateStmt) []fkSpec {
	var out []fkSpec
	for _, elt := range cs.TableElts {
		switch e := elt.Node.(type) {
		case *pg_query.Node_ColumnDef:
			for _, cn := range e.ColumnDef.Constraints {
				if c := cn.GetConstraint(); c != nil && c.Contype == pg_query.ConstrType_CONSTR_FOREIGN {
					out = append(out, fkSpec{con: c, cols: []string{e.ColumnDef.Colname}})
				}
			}
		case *pg_query.Node_Constraint:
			if c := e.Constraint; c.Contype == pg_query.ConstrType_CONSTR_FOREIGN {
				out = append(out, fkSpec{con: c, cols: stringList(c.FkAttrs)})
			}
		}
	}
	return out
}

func stringList(nodes []*pg_query.Node) []string {
	out := make([]string, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, n.GetString_().GetSval())
	}
	return out
}

func fkAction(code string) (catalog.FKAction, error) {
	switch code {
	case "", "a":
		return catalog.FKNoAction, nil
	case "r":
		return catalog.FKRestrict, nil
	case "c":
		return catalog.FKCascade, nil
	case "n":
		return catalog.FKSetNull, nil
	case "d":
		return catalog.FKSetDefault, nil
	}
	return 0, sqlerr.Unsupportedf("foreign key action %q is not supported", code)
}

// constraintNameTaken reports whether desc has a constraint (index, CHECK
// or foreign key) named name.
func constraintNameTaken(desc *catalog.TableDescriptor, name string) bool {
	return constraintExists(desc, name) || desc.ForeignKeyByName(name) != nil
}

// buildForeignKey resolves a FOREIGN KEY constraint of desc (a table being
// created, or a copy being altered) into a foreign key, with PostgreSQL's
// errors. A reference to desc's own name is to desc itself.
func (x *execCtx) buildForeignKey(ctx context.Context, desc *catalog.TableDescriptor, spec fkSpec) (catalog.ForeignKey, error) {
	c := spec.con
	var fk catalog.ForeignKey
	switch {
	case c.Deferrable || c.Initdeferred:
		return fk, sqlerr.Unsupportedf("DEFERRABLE foreign keys are not supported yet")
	case c.FkMatchtype == "p":
		return fk, sqlerr.Unsupportedf("MATCH PARTIAL not yet implemented")
	case len(c.FkDelSetCols) > 0:
		return fk, sqlerr.Unsupportedf("ON DELETE SET NULL/SET DEFAULT with a column list is not supported yet")
	case c.Pktable == nil:
		return fk, sqlerr.Internalf("foreign key without a referenced table")
	}
	var err error
	if fk.OnDelete, err = fkAction(c.FkDelAction); err != nil {
		return fk, err
	}
	if fk.OnUpdate, err = fkAction(c.FkUpdAction); err != nil {
		return fk, err
	}
	fk.MatchFull = c.FkMatchtype == "f"
	for _, name := range spec.cols {
		col := desc.ColumnByName(name)
		if col == nil || col.Hidden {
			return fk, sqlerr.Newf(sqlerr.CodeUndefinedColumn, "column %q referenced in foreign key constraint does not exist", name)
		}
		if slices.Contains(fk.ColumnIDs, col.ID) {
			return fk, sqlerr.Newf(sqlerr.CodeDuplicateColumn, "foreign key referenced-columns list must not contain duplicates")
		}
		fk.ColumnIDs = append(fk.ColumnIDs, col.ID)
	}
	schema, name, err := relationName(c.Pktable)
	if err != nil {
		return fk, err
	}
	ref := desc
	if schema != desc.Schema || name != desc.Name {
		if ref, err = x.table(ctx, c.Pktable, false); err != nil {
			return fk, err
		}
	}
	fk.RefTableID = ref.ID
	if len(c.PkAttrs) == 0 {
		pk := ref.PrimaryIndex.ColumnIDs
		if len(pk) == 0 || ref.ColumnByID(pk[0]).Hidden {
			return fk, sqlerr.Newf(sqlerr.CodeUndefinedObject, "there is no primary key for referenced table %q", ref.Name)
		}
		fk.RefColumnIDs = slices.Clone(pk)
	} else {
		for _, n := range stringList(c.PkAttrs) {
			col := ref.ColumnByName(n)
			if col == nil || col.Hidden {
				return fk, sqlerr.Newf(sqlerr.CodeUndefinedColumn, "column %q referenced in foreign key constraint does not exist", n)
			}
			fk.RefColumnIDs = append(fk.RefColumnIDs, col.ID)
		}
		if catalog.UniqueIndexOn(ref, fk.RefColumnIDs) == nil {
			return fk, sqlerr.Newf(sqlerr.CodeInvalidForeignKey, "there is no unique constraint matching given keys for referenced table %q", ref.Name)
		}
	}
	if len(fk.ColumnIDs) != len(fk.RefColumnIDs) {
		return fk, sqlerr.New(sqlerr.CodeInvalidForeignKey, "number of referencing and referenced columns for foreign key disagree")
	}
	fk.Name = c.Conname
	if fk.Name == "" {
		base := desc.Name + "_" + strings.Join(spec.cols, "_") + "_fkey"
		fk.Name = base
		for i := 1; constraintNameTaken(desc, fk.Name); i++ {
			fk.Name = fmt.Sprintf("%s%d", base, i)
		}
	} else if constraintNameTaken(desc, fk.Name) {
		return fk, sqlerr.Newf(sqlerr.CodeDuplicateObject, "constraint %q for relation %q already exists", fk.Name, desc.Name)
	}
	for i, id := range fk.ColumnIDs {
		col, rc := desc.ColumnByID(id), ref.ColumnByID(fk.RefColumnIDs[i])
		if !catalog.FKTypesCompatible(col.Type, rc.Type) {
			return fk, (&sqlerr.Error{Code: sqlerr.CodeDatatypeMismatch,
				Message: fmt.Sprintf("foreign key constraint %q cannot be implemented", fk.Name)}).
				WithDetail("Key columns %q and %q are of incompatible types: %s and %s.", col.Name, rc.Name, col.Type.Name(), rc.Type.Name())
		}
	}
	return fk, nil
}

// validateForeignKey checks that every row of desc has its parent (ALTER
// TABLE ADD FOREIGN KEY), reading the parents in batches.
func (x *execCtx) validateForeignKey(ctx context.Context, desc *catalog.TableDescriptor, fk *catalog.ForeignKey) error {
	c := newFKChecker(x)
	ref, err := c.resolve(ctx, desc, fk)
	if err != nil {
		return err
	}
	err = x.forEachRow(ctx, desc, func(row []types.Datum) error {
		if err := c.queueChild(ref, row); err != nil {
			return err
		}
		if len(c.children) >= scanBatch {
			return c.checkChildren(ctx)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.checkChildren(ctx)
}

// fkRef is a foreign key resolved for a statement.
type fkRef struct {
	fk            *catalog.ForeignKey
	child, parent *catalog.TableDescriptor
	childOrds     []int // the foreign key's columns in child rows
	parentOrds    []int // the referenced columns in parent rows
	parentIdx     *catalog.Index
}

// fkChecker enforces the foreign keys of a statement's writes (see the
// top of the file). Writers share it; flush runs the checks.
type fkChecker struct {
	x *execCtx
	// immediate: check each row as it is written (a writer used without
	// flush, as COPY does).
	immediate bool
	out, in   map[uint32][]*fkRef // by child, by parent table id
	writers   map[uint32]*tableWriter
	children  []childCheck
	parents   []parentChange
	flushing  bool
}

type childCheck struct {
	ref *fkRef
	row []types.Datum
}

// parentChange is a parent row deleted (new nil) or whose referenced key
// changed.
type parentChange struct {
	ref      *fkRef
	old, new []types.Datum
}

func newFKChecker(x *execCtx) *fkChecker {
	return &fkChecker{x: x, out: map[uint32][]*fkRef{}, in: map[uint32][]*fkRef{}, writers: map[uint32]*tableWriter{}}
}

func (c *fkChecker) table(ctx context.Context, id uint32) (*catalog.TableDescriptor, error) {
	if w := c.writers[id]; w != nil {
		return w.desc, nil
	}
	res, err := c.x.resolver(ctx)
	if err != nil {
		return nil, err
	}
	t, err := res.GetTableByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, sqlerr.Internalf("table %d of a foreign key is missing", id)
	}
	return t, nil
}

// resolve resolves fk of table child.
func (c *fkChecker) resolve(ctx context.Context, child *catalog.TableDescriptor, fk *catalog.ForeignKey) (*fkRef, error) {
	parent := child
	if fk.RefTableID != child.ID {
		var err error
		if parent, err = c.table(ctx, fk.RefTableID); err != nil {
			return nil, err
		}
	}
	r := &fkRef{fk: fk, child: child, parent: parent, parentIdx: catalog.UniqueIndexOn(parent, fk.RefColumnIDs)}
	if r.parentIdx == nil {
		return nil, sqlerr.Newf(sqlerr.CodeInvalidForeignKey, "there is no unique constraint matching given keys for referenced table %q", parent.Name)
	}
	for i, id := range fk.ColumnIDs {
		co, po := child.ColumnOrdinal(id), parent.ColumnOrdinal(fk.RefColumnIDs[i])
		if co < 0 || po < 0 {
			return nil, sqlerr.Internalf("foreign key %q refers to a missing column", fk.Name)
		}
		r.childOrds, r.parentOrds = append(r.childOrds, co), append(r.parentOrds, po)
	}
	return r, nil
}

// outbound returns the foreign keys of table desc.
func (c *fkChecker) outbound(ctx context.Context, desc *catalog.TableDescriptor) ([]*fkRef, error) {
	if refs, ok := c.out[desc.ID]; ok {
		return refs, nil
	}
	var refs []*fkRef
	for i := range desc.ForeignKeys {
		r, err := c.resolve(ctx, desc, &desc.ForeignKeys[i])
		if err != nil {
			return nil, err
		}
		refs = append(refs, r)
	}
	c.out[desc.ID] = refs
	return refs, nil
}

// inbound returns the foreign keys that reference table desc.
func (c *fkChecker) inbound(ctx context.Context, desc *catalog.TableDescriptor) ([]*fkRef, error) {
	if refs, ok := c.in[desc.ID]; ok {
		return refs, nil
	}
	var refs []*fkRef
	for _, id := range desc.ReferencedBy {
		child := desc
		if id != desc.ID {
			res, err := c.x.resolver(ctx)
			if err != nil {
				return nil, err
			}
			if w := c.writers[id]; w != nil {
				child = w.desc
			} else if child, err = res.GetTableByID(ctx, id); err != nil {
				return nil, err
			}
			if child == nil {
				continue // dropped (a stale list): it references nothing
			}
		}
		for i := range child.ForeignKeys {
			fk := &child.ForeignKeys[i]
			if fk.RefTableID != desc.ID {
				continue
			}
			r, err := c.resolve(ctx, child, fk)
			if err != nil {
				return nil, err
			}
			r.parent = desc
			refs = append(refs, r)
		}
	}
	c.in[desc.ID] = refs
	return refs, nil
}

// writer returns the statement's writer of table desc.
func (c *fkChecker) writer(desc *catalog.TableDescriptor) (*tableWriter, error) {
	if w := c.writers[desc.ID]; w != nil {
		return w, nil
	}
	w, err := c.x.newTableWriter(desc)
	if err != nil {
		return nil, err
	}
	w.fk = c
	c.writers[desc.ID] = w
	return w, nil
}

// keyNulls reports whether the key of a foreign key in row has NULLs:
// none, some or all.
func keyNulls(row []types.Datum, ords []int) (some, all bool) {
	n := 0
	for _, o := range ords {
		if row[o] == types.DNull {
			n++
		}
	}
	return n > 0, n == len(ords)
}

func keyText(desc *catalog.TableDescriptor, ords []int, row []types.Datum) string {
	names, vals := make([]string, len(ords)), make([]string, len(ords))
	for i, o := range ords {
		names[i] = desc.Columns[o].Name
		if row[o] == types.DNull {
			vals[i] = "null"
		} else {
			vals[i] = types.FormatText(row[o], desc.Columns[o].Type, nil)
		}
	}
	return fmt.Sprintf("Key (%s)=(%s)", strings.Join(names, ", "), strings.Join(vals, ", "))
}

func childViolation(r *fkRef, detail string) error {
	return (&sqlerr.Error{Code: sqlerr.CodeForeignKeyViolation,
		Message: fmt.Sprintf("insert or update on table %q violates foreign key constraint %q", r.child.Name, r.fk.Name)}).
		WithDetail("%s", detail)
}

// queueChild notes a child row to check.
func (c *fkChecker) queueChild(r *fkRef, row []types.Datum) error {
	some, all := keyNulls(row, r.childOrds)
	switch {
	case all || some && !r.fk.MatchFull:
		return nil
	case some:
		return childViolation(r, "MATCH FULL does not allow mixing of null and nonnull key values.")
	}
	c.children = append(c.children, childCheck{ref: r, row: row})
	return nil
}

// inserted reports a row written to desc.
func (c *fkChecker) inserted(ctx context.Context, desc *catalog.TableDescriptor, row []types.Datum) error {
	if len(desc.ForeignKeys) == 0 {
		return nil
	}
	refs, err := c.outbound(ctx, desc)
	if err != nil {
		return err
	}
	for _, r := range refs {
		if err := c.queueChild(r, row); err != nil {
			return err
		}
	}
	return c.maybeFlush(ctx)
}

// removed reports a row deleted from desc.
func (c *fkChecker) removed(ctx context.Context, desc *catalog.TableDescriptor, row []types.Datum) error {
	if len(desc.ReferencedBy) == 0 {
		return nil
	}
	refs, err := c.inbound(ctx, desc)
	if err != nil {
		return err
	}
	for _, r := range refs {
		if some, _ := keyNulls(row, r.parentOrds); !some {
			c.parents = append(c.parents, parentChange{ref: r, old: row})
		}
	}
	return c.maybeFlush(ctx)
}

// updated reports a row of desc updated from old to row.
func (c *fkChecker) updated(ctx context.Context, desc *catalog.TableDescriptor, old, row []types.Datum) error {
	changed := func(ords []int) bool {
		for _, o := range ords {
			if !sameDatum(old[o], row[o]) {
				return true
			}
		}
		return false
	}
	if len(desc.ForeignKeys) > 0 {
		refs, err := c.outbound(ctx, desc)
		if err != nil {
			return err
		}
		for _, r := range refs {
			if changed(r.childOrds) {
				if err := c.queueChild(r, row); err != nil {
					return err
				}
			}
		}
	}
	if len(desc.ReferencedBy) > 0 {
		refs, err := c.inbound(ctx, desc)
		if err != nil {
			return err
		}
		for _, r := range refs {
			if some, _ := keyNulls(old, r.parentOrds); !some && changed(r.parentOrds) {
				c.parents = append(c.parents, parentChange{ref: r, old: old, new: row})
			}
		}
	}
	return c.maybeFlush(ctx)
}

// sameDatum reports whether two values are the same (NULLs included), as
// a key compares them.
func sameDatum(a, b types.Datum) bool {
	if a == types.DNull || b == types.DNull {
		return a == types.DNull && b == types.DNull
	}
	return types.Compare(a, b) == 0
}

func (c *fkChecker) maybeFlush(ctx context.Context) error {
	if c.immediate {
		return c.flush(ctx)
	}
	return nil
}

// flush runs the pending checks and actions, and those they cause.
func (c *fkChecker) flush(ctx context.Context) error {
	if c.flushing {
		return nil // the outer flush goes on with what the actions queue
	}
	c.flushing = true
	defer func() { c.flushing = false }()
	for len(c.parents) > 0 || len(c.children) > 0 {
		if len(c.parents) > 0 {
			batch := c.parents
			c.parents = nil
			if err := c.checkParents(ctx, batch); err != nil {
				return err
			}
			continue
		}
		if err := c.checkChildren(ctx); err != nil {
			return err
		}
	}
	return nil
}

// convertKey converts the values of a key from one table's column types to
// the other's; ok is false when a value has no exact equal there (so that
// no row there can match).
func convertKey(from *catalog.TableDescriptor, fromOrds []int, to *catalog.TableDescriptor, toOrds []int, row []types.Datum) (vals []types.Datum, ok bool) {
	vals = make([]types.Datum, len(fromOrds))
	for i, o := range fromOrds {
		d := row[o]
		ft, tt := from.Columns[o].Type, to.Columns[toOrds[i]].Type
		if d != types.DNull && !ft.Identical(tt) {
			cd, err := types.Cast(d, tt)
			if err != nil || types.Compare(mustCastBack(cd, ft), d) != 0 {
				return nil, false
			}
			d = cd
		}
		vals[i] = d
	}
	return vals, true
}

// parentKey returns the key of the parent's unique index entry for the
// referenced values vals (in the foreign key's order).
func (r *fkRef) parentKey(vals []types.Datum) ([]byte, error) {
	row := make([]types.Datum, len(r.parent.Columns))
	for i := range row {
		row[i] = types.DNull
	}
	for i, o := range r.parentOrds {
		row[o] = vals[i]
	}
	if r.parentIdx.ID == r.parent.PrimaryIndex.ID {
		return rowenc.EncodePrimaryKey(r.parent, row)
	}
	key, _, err := rowenc.SecondaryIndexKey(r.parent, r.parentIdx, row)
	return key, err
}

// parentsExist reads, in one batch, whether the parents of keys exist.
func (c *fkChecker) parentsExist(ctx context.Context, refs []*fkRef, keys [][]types.Datum) ([]bool, error) {
	enc := make([][]byte, 0, len(keys))
	at := map[string]int{}
	slot := make([]int, len(keys))
	for i, k := range keys {
		key, err := refs[i].parentKey(k)
		if err != nil {
			return nil, err
		}
		j, ok := at[string(key)]
		if !ok {
			j = len(enc)
			at[string(key)] = j
			enc = append(enc, key)
		}
		slot[i] = j
	}
	// SERIALIZABLE validates these reads at commit. The weaker levels do
	// not: they lock the parents instead (PostgreSQL takes FOR KEY SHARE
	// locks; ours are exclusive), so that a concurrent delete of a parent
	// waits for this transaction and then sees its children.
	get := c.x.txn.GetMany
	if c.x.txn.Isolation() != kvpb.IsolationLevel_SERIALIZABLE {
		get = c.x.txn.GetManyForUpdate
	}
	resps, err := get(ctx, enc)
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(keys))
	for i, j := range slot {
		out[i] = resps[j] != nil && resps[j].Found
	}
	return out, nil
}

// checkChildren checks that the queued child rows have their parents.
func (c *fkChecker) checkChildren(ctx context.Context) error {
	batch := c.children
	c.children = nil
	var refs []*fkRef
	var keys [][]types.Datum
	var which []int
	for i, ch := range batch {
		vals, ok := convertKey(ch.ref.child, ch.ref.childOrds, ch.ref.parent, ch.ref.parentOrds, ch.row)
		if !ok {
			return childViolation(ch.ref, fmt.Sprintf("%s is not present in table %q.", keyText(ch.ref.child, ch.ref.childOrds, ch.row), ch.ref.parent.Name))
		}
		refs, keys, which = append(refs, ch.ref), append(keys, vals), append(which, i)
	}
	if len(keys) == 0 {
		return nil
	}
	found, err := c.parentsExist(ctx, refs, keys)
	if err != nil {
		return err
	}
	for i, ok := range found {
		if !ok {
			ch := batch[which[i]]
			return childViolation(ch.ref, fmt.Sprintf("%s is not present in table %q.", keyText(ch.ref.child, ch.ref.childOrds, ch.row), ch.ref.parent.Name))
		}
	}
	return nil
}

// checkParents enforces the foreign keys referencing changed parent rows.
func (c *fkChecker) checkParents(ctx context.Context, batch []parentChange) error {
	// Group by foreign key, in order of first appearance.
	var order []*fkRef
	groups := map[*fkRef][]parentChange{}
	for _, p := range batch {
		if _, ok := groups[p.ref]; !ok {
			order = append(order, p.ref)
		}
		groups[p.ref] = append(groups[p.ref], p)
	}
	for _, r := range order {
		// Deletes and updates are grouped apart: an action per kind.
		var dels, upds []parentChange
		for _, p := range groups[r] {
			if p.new == nil {
				dels = append(dels, p)
			} else {
				upds = append(upds, p)
			}
		}
		for _, group := range [][]parentChange{dels, upds} {
			if len(group) == 0 {
				continue
			}
			action := r.fk.OnDelete
			if group[0].new != nil {
				action = r.fk.OnUpdate
			}
			if err := c.parentAction(ctx, r, action, group); err != nil {
				return err
			}
		}
	}
	return nil
}

// parentAction applies the action of foreign key r to the children of the
// changed parent rows.
func (c *fkChecker) parentAction(ctx context.Context, r *fkRef, action catalog.FKAction, changes []parentChange) error {
	if action == catalog.FKNoAction {
		// NO ACTION: a key that another parent row has by now is fine.
		refs := make([]*fkRef, len(changes))
		keys := make([][]types.Datum, len(changes))
		for i, p := range changes {
			refs[i] = r
			keys[i] = make([]types.Datum, len(r.parentOrds))
			for j, o := range r.parentOrds {
				keys[i][j] = p.old[o]
			}
		}
		found, err := c.parentsExist(ctx, refs, keys)
		if err != nil {
			return err
		}
		kept := changes[:0:0]
		for i, p := range changes {
			if !found[i] {
				kept = append(kept, p)
			}
		}
		changes = kept
	}
	if len(changes) == 0 {
		return nil
	}
	restrict := action == catalog.FKNoAction || action == catalog.FKRestrict
	kids, err := c.x.fkChildren(ctx, r, changes, restrict)
	if err != nil {
		return err
	}
	var w *tableWriter
	for i, p := range changes {
		if len(kids[i]) == 0 {
			continue
		}
		switch action {
		case catalog.FKNoAction, catalog.FKRestrict:
			return (&sqlerr.Error{Code: sqlerr.CodeForeignKeyViolation,
				Message: fmt.Sprintf("update or delete on table %q violates foreign key constraint %q on table %q", r.parent.Name, r.fk.Name, r.child.Name)}).
				WithDetail("%s is still referenced from table %q.", keyText(r.parent, r.parentOrds, p.old), r.child.Name)
		}
		if w == nil {
			if w, err = c.writer(r.child); err != nil {
				return err
			}
		}
		for _, kid := range kids[i] {
			if action == catalog.FKCascade && p.new == nil {
				if err := w.remove(ctx, c.x, kid); err != nil {
					return err
				}
				continue
			}
			row := slices.Clone(kid)
			switch action {
			case catalog.FKCascade:
				vals, ok := convertKey(r.parent, r.parentOrds, r.child, r.childOrds, p.new)
				if !ok {
					// The new key does not fit the child's column: the
					// assignment cast reports why.
					for j, o := range r.childOrds {
						cd, err := (types.Caster{Context: types.CoercionAssignment}).Cast(p.new[r.parentOrds[j]], r.parent.Columns[r.parentOrds[j]].Type, r.child.Columns[o].Type)
						if err != nil {
							return err
						}
						row[o] = cd
					}
				} else {
					for j, o := range r.childOrds {
						row[o] = vals[j]
					}
				}
			case catalog.FKSetNull:
				for _, o := range r.childOrds {
					row[o] = types.DNull
				}
			case catalog.FKSetDefault:
				set := make([]bool, len(row))
				for j := range set {
					set[j] = !slices.Contains(r.childOrds, j)
				}
				if err := w.fill(ctx, c.x, row, set); err != nil {
					return err
				}
			}
			if err := w.update(ctx, c.x, kid, row); err != nil {
				return err
			}
		}
	}
	if action == catalog.FKSetDefault {
		// A child whose default is the removed key kept it: as PostgreSQL,
		// check again as NO ACTION does.
		return c.parentAction(ctx, r, catalog.FKNoAction, changes)
	}
	return nil
}

// fkChildren returns, for each changed parent row, the child rows that
// reference its old key (as the transaction sees them now). With first,
// only whether there are any matters: it returns at most one row, for
// the first change that has children.
func (x *execCtx) fkChildren(ctx context.Context, r *fkRef, changes []parentChange, first bool) ([][][]types.Datum, error) {
	out := make([][][]types.Datum, len(changes))
	keys := make([][]types.Datum, len(changes)) // in the child's types; nil: matches nothing
	for i, p := range changes {
		if vals, ok := convertKey(r.parent, r.parentOrds, r.child, r.childOrds, p.old); ok {
			keys[i] = vals
		}
	}
	match := func(row []types.Datum, key []types.Datum) bool {
		for j, o := range r.childOrds {
			if row[o] == types.DNull || types.Compare(row[o], key[j]) != 0 {
				return false
			}
		}
		return true
	}
	// An index whose leading columns are the foreign key's.
	var idx *catalog.Index
	n := len(r.childOrds)
	for _, cand := range append([]*catalog.Index{&r.child.PrimaryIndex}, publicIndexes(r.child)...) {
		if len(cand.ColumnIDs) < n {
			continue
		}
		ok := true
		for _, id := range cand.ColumnIDs[:n] {
			if !slices.Contains(r.fk.ColumnIDs, id) {
				ok = false
				break
			}
		}
		if ok {
			idx = cand
			break
		}
	}
	if idx == nil {
		// No index: one scan of the child for all the keys.
		at := map[string][]int{}
		for i, k := range keys {
			if k == nil {
				continue
			}
			s, err := fkMapKey(r.child, r.childOrds, k)
			if err != nil {
				return nil, err
			}
			at[s] = append(at[s], i)
		}
		if len(at) == 0 {
			return out, nil
		}
		err := x.forEachRow(ctx, r.child, func(row []types.Datum) error {
			vals := make([]types.Datum, n)
			for j, o := range r.childOrds {
				if row[o] == types.DNull {
					return nil
				}
				vals[j] = row[o]
			}
			s, err := fkMapKey(r.child, r.childOrds, vals)
			if err != nil {
				return err
			}
			for _, i := range at[s] {
				if match(row, keys[i]) && (!first || len(out[i]) == 0) {
					out[i] = append(out[i], row)
				}
			}
			return nil
		})
		return out, err
	}
	for i, k := range keys {
		if k == nil {
			continue
		}
		prefix := make([]types.Datum, n)
		for j, id := range idx.ColumnIDs[:n] {
			prefix[j] = k[slices.Index(r.fk.ColumnIDs, id)]
		}
		var it rowIter
		if idx == &r.child.PrimaryIndex {
			spans, err := rowenc.PrimaryKeyPrefixSpans(r.child, prefix)
			if err != nil {
				return nil, err
			}
			it = newSpanScan(x.txn, r.child, spans)
		} else {
			key, err := rowenc.EncodeIndexKeyPrefix(r.child, idx, prefix)
			if err != nil {
				return nil, err
			}
			it = newIndexLookup(x.txn, r.child, []rowenc.Span{{Key: key, EndKey: rowenc.PrefixEnd(key)}})
		}
		for {
			row, err := it.Next(ctx)
			if err != nil || row == nil {
				it.Close()
				if err != nil {
					return nil, err
				}
				break
			}
			if match(row, k) {
				out[i] = append(out[i], row)
				if first {
					it.Close()
					return out, nil
				}
			}
		}
	}
	return out, nil
}

func publicIndexes(d *catalog.TableDescriptor) []*catalog.Index {
	var out []*catalog.Index
	for i := range d.Indexes {
		if d.Indexes[i].Public() {
			out = append(out, &d.Indexes[i])
		}
	}
	return out
}

// fkMapKey encodes key values (in the order of ords) for a map.
func fkMapKey(desc *catalog.TableDescriptor, ords []int, vals []types.Datum) (string, error) {
	var b []byte
	for j, o := range ords {
		var err error
		if b, err = rowenc.AppendKeyDatum(b, vals[j], desc.Columns[o].Type, false); err != nil {
			return "", err
		}
	}
	return string(b), nil
}

// referencingFKs lists the foreign keys of other tables that reference
// desc (for DROP and TRUNCATE), with their tables.
func (x *execCtx) referencingFKs(ctx context.Context, desc *catalog.TableDescriptor) ([]*fkRef, error) {
	c := newFKChecker(x)
	refs, err := c.inbound(ctx, desc)
	if err != nil {
		return nil, err
	}
	var out []*fkRef
	for _, r := range refs {
		if r.child.ID != desc.ID {
			out = append(out, r)
		}
	}
	return out, nil
}

// fkDef is pg_get_constraintdef's text for a foreign key.
func fkDef(t *catalog.TableDescriptor, fk *catalog.ForeignKey, ref *catalog.TableDescriptor) string {
	var cols, refCols []string
	for _, id := range fk.ColumnIDs {
		if c := t.ColumnByID(id); c != nil {
			cols = append(cols, quoteIdentIfNeeded(c.Name))
		}
	}
	refName := fmt.Sprint(fk.RefTableID)
	if ref != nil {
		refName = quoteIdentIfNeeded(ref.Name)
		for _, id := range fk.RefColumnIDs {
			if rc := ref.ColumnByID(id); rc != nil {
				refCols = append(refCols, quoteIdentIfNeeded(rc.Name))
			}
		}
	}
	s := fmt.Sprintf("FOREIGN KEY (%s) REFERENCES %s(%s)", strings.Join(cols, ", "), refName, strings.Join(refCols, ", "))
	if fk.MatchFull {
		s += " MATCH FULL"
	}
	if fk.OnUpdate != catalog.FKNoAction {
		s += " ON UPDATE " + fk.OnUpdate.String()
	}
	if fk.OnDelete != catalog.FKNoAction {
		s += " ON DELETE " + fk.OnDelete.String()
	}
	return s
}

// checkIndexNotReferenced fails with 2BP01 when a foreign key (of another
// table, or of desc itself) uses unique index idx of desc, which a DROP
// of the index (what: "index" or "constraint") would remove.
func (x *execCtx) checkIndexNotReferenced(ctx context.Context, desc *catalog.TableDescriptor, idx *catalog.Index, what, name string) error {
	c := newFKChecker(x)
	refs, err := c.inbound(ctx, desc)
	if err != nil {
		return err
	}
	for _, r := range refs {
		// The foreign key uses the first unique index on its columns (as
		// PostgreSQL's depends on the index it was created with).
		if r.parentIdx.ID != idx.ID {
			continue
		}
		on := ""
		if what == "constraint" {
			on = " on table " + desc.Name
		}
		return sqlerr.Newf(sqlerr.CodeDependentObjectsStillExist, "cannot drop %s %s%s because other objects depend on it", what, name, on).
			WithDetail("constraint %s on table %s depends on index %s", r.fk.Name, r.child.Name, idx.Name).
			WithHint("Use DROP ... CASCADE to drop the dependent objects too.")
	}
	return nil
}

// truncateSet returns the tables a TRUNCATE of descs empties: with
// cascade, the tables referencing them too (transitively); without, a
// table referenced by a table not truncated fails with 0A000.
func (x *execCtx) truncateSet(ctx context.Context, descs []*catalog.TableDescriptor, cascade bool) ([]*catalog.TableDescriptor, error) {
	in := map[uint32]bool{}
	for _, d := range descs {
		in[d.ID] = true
	}
	for i := 0; i < len(descs); i++ {
		refs, err := x.referencingFKs(ctx, descs[i])
		if err != nil {
			return nil, err
		}
		for _, r := range refs {
			if in[r.child.ID] {
				continue
			}
			if !cascade {
				return nil, (&sqlerr.Error{Code: sqlerr.CodeFeatureNotSupported, Message: "cannot truncate a table referenced in a foreign key constraint"}).
					WithDetail("Table %q references %q.", r.child.Name, descs[i].Name).
					WithHint("Truncate table %q at the same time, or use TRUNCATE ... CASCADE.", r.child.Name)
			}
			_ = x.notice(sqlerr.New("00000", fmt.Sprintf("truncate cascades to table %q", r.child.Name)))
			in[r.child.ID] = true
			descs = append(descs, r.child)
		}
	}
	return descs, nil
}

// dropSet checks DROP TABLE of descs: a table referenced by a table not
// dropped fails with 2BP01 unless cascade (the foreign keys go then).
func (x *execCtx) dropSet(ctx context.Context, descs []*catalog.TableDescriptor, cascade bool) error {
	in := map[uint32]bool{}
	for _, d := range descs {
		in[d.ID] = true
	}
	for _, d := range descs {
		refs, err := x.referencingFKs(ctx, d)
		if err != nil {
			return err
		}
		for _, r := range refs {
			if in[r.child.ID] {
				continue
			}
			if !cascade {
				return sqlerr.Newf(sqlerr.CodeDependentObjectsStillExist, "cannot drop table %s because other objects depend on it", d.Name).
					WithDetail("constraint %s on table %s depends on table %s", r.fk.Name, r.child.Name, d.Name).
					WithHint("Use DROP ... CASCADE to drop the dependent objects too.")
			}
			_ = x.notice(sqlerr.New("00000", fmt.Sprintf("drop cascades to constraint %s on table %s", r.fk.Name, r.child.Name)))
		}
	}
	return nil
}

// defConstraintVTables defines information_schema's views of constraints:
// table_constraints, referential_constraints, key_column_usage (primary
// keys, unique constraints and foreign keys; CHECK constraints in
// table_constraints).
func defConstraintVTables() {
	defVTable("information_schema", "table_constraints", "constraint_catalog name, constraint_schema name, constraint_name name, "+
		"table_catalog name, table_schema name, table_name name, constraint_type text, is_deferrable text, initially_deferred text, "+
		"enforced text, nulls_distinct text",
		func(_ context.Context, _ *execCtx, s *catalogSnapshot) ([][]types.Datum, error) {
			var rows [][]types.Datum
			kinds := map[string]string{"p": "PRIMARY KEY", "u": "UNIQUE", "c": "CHECK", "f": "FOREIGN KEY"}
			for _, t := range s.tables {
				for _, c := range tableConstraints(t) {
					if c.typ == "p" && t.ColumnByID(t.PrimaryIndex.ColumnIDs[0]).Hidden {
						continue
					}
					distinct := null
					if c.typ == "u" {
						distinct = dText("YES")
					}
					rows = append(rows, []types.Datum{dText(s.db.Name), dText(t.Schema), dText(c.name),
						dText(s.db.Name), dText(t.Schema), dText(t.Name), dText(kinds[c.typ]), dText("NO"), dText("NO"), dText("YES"), distinct})
				}
			}
			return rows, nil
		})
	defVTable("information_schema", "referential_constraints", "constraint_catalog name, constraint_schema name, constraint_name name, "+
		"unique_constraint_catalog name, unique_constraint_schema name, unique_constraint_name name, match_option text, "+
		"update_rule text, delete_rule text",
		func(_ context.Context, _ *execCtx, s *catalogSnapshot) ([][]types.Datum, error) {
			var rows [][]types.Datum
			for _, t := range s.tables {
				for _, fk := range t.ForeignKeys {
					uname := null
					ref := s.tableByID(fk.RefTableID)
					if ref != nil {
						if idx := catalog.UniqueIndexOn(ref, fk.RefColumnIDs); idx != nil {
							uname = dText(idx.Name)
						}
					}
					match := "NONE"
					if fk.MatchFull {
						match = "FULL"
					}
					rows = append(rows, []types.Datum{dText(s.db.Name), dText(t.Schema), dText(fk.Name),
						dText(s.db.Name), dText(t.Schema), uname, dText(match), dText(fk.OnUpdate.String()), dText(fk.OnDelete.String())})
				}
			}
			return rows, nil
		})
	defVTable("information_schema", "key_column_usage", "constraint_catalog name, constraint_schema name, constraint_name name, "+
		"table_catalog name, table_schema name, table_name name, column_name name, ordinal_position int4, "+
		"position_in_unique_constraint int4",
		func(_ context.Context, _ *execCtx, s *catalogSnapshot) ([][]types.Datum, error) {
			var rows [][]types.Datum
			for _, t := range s.tables {
				for _, c := range tableConstraints(t) {
					if c.typ == "c" || c.typ == "p" && t.ColumnByID(t.PrimaryIndex.ColumnIDs[0]).Hidden {
						continue
					}
					var uidx *catalog.Index
					if c.typ == "f" {
						if ref := s.tableByID(c.refOID); ref != nil {
							uidx = catalog.UniqueIndexOn(ref, c.refCols)
						}
					}
					for i, id := range c.cols {
						col := t.ColumnByID(id)
						if col == nil {
							continue
						}
						pos := null
						if uidx != nil {
							if j := slices.Index(uidx.ColumnIDs, c.refCols[i]); j >= 0 {
								pos = dInt(int64(j + 1))
							}
						}
						rows = append(rows, []types.Datum{dText(s.db.Name), dText(t.Schema), dText(c.name),
							dText(s.db.Name), dText(t.Schema), dText(t.Name), dText(col.Name), dInt(int64(i + 1)), pos})
					}
				}
			}
			return rows, nil
		})
}
