package sql

import (
	"bufio"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/cairndb/cairn/internal/sql/catalog"
	"github.com/cairndb/cairn/internal/sql/rowenc"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// Bounds of the external sort.
const (
	// sortMergeFanIn is the most runs merged at once (open files); more
	// runs are first merged into longer ones.
	sortMergeFanIn = 64
	// maxSortSchemas bounds the distinct column type lists of one run (a
	// NULL takes any type, so a run has one or a few).
	maxSortSchemas = 1024
)

// rowSorter sorts rows by less (stably: rows that compare equal keep
// their input order) within a memory budget, work_mem. Rows are buffered
// in memory until their estimated size passes the budget; the buffer is
// then sorted and written to a temporary file as a run, and the runs are
// merged at the end (at most sortMergeFanIn at a time). Rows in a run are
// encoded as rowenc encodes a table's row values, with the column types of
// the datums themselves (types.Datum.ResolvedType).
//
// Use: Add every row, then Finish, then Next until it returns nil; Close
// always (it removes the temporary files, also after an error).
type rowSorter struct {
	less   func(a, b []types.Datum) bool
	budget int64
	dir    string // where runs are written; "" is os.TempDir()

	rows [][]types.Datum
	mem  int64
	runs []*sortRun

	// Reading.
	finished bool
	pos      int        // next of rows when nothing spilled
	merge    *runMerger // when runs were spilled
	closed   bool
	// spills counts the runs written (tests).
	spills int
}

func newRowSorter(less func(a, b []types.Datum) bool, budget int64, dir string) *rowSorter {
	return &rowSorter{less: less, budget: budget, dir: dir}
}

// Add buffers a row (the sorter keeps it: the caller must not change it).
func (s *rowSorter) Add(row []types.Datum) error {
	if s.finished || s.closed {
		return sqlerr.Internalf("sort: row added after the input ended")
	}
	s.rows = append(s.rows, row)
	s.mem += rowMemory(row)
	if s.mem > s.budget && len(s.rows) > 1 {
		return s.spill()
	}
	return nil
}

func (s *rowSorter) sortBuffer() {
	sort.SliceStable(s.rows, func(i, j int) bool { return s.less(s.rows[i], s.rows[j]) })
}

// spill sorts the buffered rows and writes them out as a run.
func (s *rowSorter) spill() error {
	s.sortBuffer()
	r, err := newSortRun(s.dir)
	if err != nil {
		return err
	}
	s.runs = append(s.runs, r) // Close removes it, whatever happens next
	for _, row := range s.rows {
		if err := r.write(row); err != nil {
			return err
		}
	}
	if err := r.finishWriting(); err != nil {
		return err
	}
	clear(s.rows)
	s.rows, s.mem = s.rows[:0], 0
	s.spills++
	return nil
}

// Finish ends the input and sorts.
func (s *rowSorter) Finish() error {
	if s.finished {
		return nil
	}
	s.finished = true
	if len(s.runs) == 0 {
		s.sortBuffer()
		return nil
	}
	if len(s.rows) > 0 {
		if err := s.spill(); err != nil {
			return err
		}
	}
	s.rows = nil
	// Merge down to at most sortMergeFanIn runs, in passes that each merge
	// consecutive groups of sortMergeFanIn runs (so every row is rewritten
	// once a pass, and the merged runs keep the input order among equal
	// rows).
	for len(s.runs) > sortMergeFanIn {
		var merged []*sortRun
		for i := 0; i < len(s.runs); i += sortMergeFanIn {
			group := s.runs[i:min(i+sortMergeFanIn, len(s.runs))]
			if len(group) == 1 {
				merged = append(merged, group[0])
				continue
			}
			m, err := s.mergeInto(group)
			if err != nil {
				s.runs = append(merged, s.runs[i:]...) // for Close to remove
				return err
			}
			for _, r := range group {
				r.remove()
			}
			merged = append(merged, m)
		}
		s.runs = merged
	}
	m, err := newRunMerger(s.runs, s.less)
	if err != nil {
		return err
	}
	s.merge = m
	return nil
}

// mergeInto merges runs into a new run.
func (s *rowSorter) mergeInto(runs []*sortRun) (*sortRun, error) {
	out, err := newSortRun(s.dir)
	if err != nil {
		return nil, err
	}
	m, err := newRunMerger(runs, s.less)
	if err != nil {
		out.remove()
		return nil, err
	}
	for {
		row, err := m.next()
		if err == nil && row == nil {
			break
		}
		if err == nil {
			err = out.write(row)
		}
		if err != nil {
			out.remove()
			return nil, err
		}
	}
	if err := out.finishWriting(); err != nil {
		out.remove()
		return nil, err
	}
	s.spills++
	return out, nil
}

// Next returns the next row in order, nil after the last.
func (s *rowSorter) Next() ([]types.Datum, error) {
	if !s.finished || s.closed {
		return nil, sqlerr.Internalf("sort: rows read before the input ended")
	}
	if s.merge != nil {
		return s.merge.next()
	}
	if s.pos >= len(s.rows) {
		return nil, nil
	}
	row := s.rows[s.pos]
	s.rows[s.pos] = nil
	s.pos++
	return row, nil
}

// Close releases the rows and removes the temporary files.
func (s *rowSorter) Close() {
	s.closed = true
	s.rows = nil
	for _, r := range s.runs {
		r.remove()
	}
	s.runs, s.merge = nil, nil
}

// sortRun is a temporary file of sorted rows: records of
// uvarint(schema) ‖ uvarint(len) ‖ rowenc value, where schema indexes the
// run's column type lists.
//
// The file is open while it is written, and from the first read on: a
// run waiting to be merged holds no file descriptor.
type sortRun struct {
	name    string
	f       *os.File // nil between writing and reading
	w       *bufio.Writer
	r       *bufio.Reader
	schemas []*catalog.TableDescriptor
	last    int // schema of the previous row
	buf     []byte
	removed bool
}

func newSortRun(dir string) (*sortRun, error) {
	f, err := os.CreateTemp(dir, "cairn-sort-*")
	if err != nil {
		return nil, sqlerr.Newf(sqlerr.CodeOutOfMemory, "ORDER BY needs more than work_mem and could not write a temporary file: %v", err).
			WithHint("Raise work_mem, or fix the temporary directory.")
	}
	return &sortRun{name: f.Name(), f: f, w: bufio.NewWriterSize(f, 64<<10), last: -1}, nil
}

// schemaFor returns the index of a column type list that can encode row
// (a NULL fits any type), adding one if needed.
func (r *sortRun) schemaFor(row []types.Datum) (int, error) {
	fits := func(desc *catalog.TableDescriptor) bool {
		if len(desc.Columns) != len(row) {
			return false
		}
		for i, d := range row {
			if d != types.DNull && !desc.Columns[i].Type.Identical(d.ResolvedType()) {
				return false
			}
		}
		return true
	}
	if r.last >= 0 && fits(r.schemas[r.last]) {
		return r.last, nil
	}
	for i, desc := range r.schemas {
		if fits(desc) {
			r.last = i
			return i, nil
		}
	}
	if len(r.schemas) >= maxSortSchemas {
		return 0, sqlerr.Internalf("sort: more than %d column type lists in one run", maxSortSchemas)
	}
	desc := &catalog.TableDescriptor{Name: "sort", Schema: catalog.DefaultSchema, Columns: make([]catalog.Column, len(row))}
	for i, d := range row {
		desc.Columns[i] = catalog.Column{ID: uint32(i + 1), Name: fmt.Sprint("c", i+1), Type: d.ResolvedType(), Nullable: true}
	}
	r.schemas = append(r.schemas, desc)
	r.last = len(r.schemas) - 1
	return r.last, nil
}

func (r *sortRun) write(row []types.Datum) error {
	si, err := r.schemaFor(row)
	if err != nil {
		return err
	}
	val, err := rowenc.EncodeRowValue(r.schemas[si], row)
	if err != nil {
		return err
	}
	r.buf = binary.AppendUvarint(r.buf[:0], uint64(si))
	r.buf = binary.AppendUvarint(r.buf, uint64(len(val)))
	if _, err := r.w.Write(r.buf); err != nil {
		return r.ioError(err)
	}
	if _, err := r.w.Write(val); err != nil {
		return r.ioError(err)
	}
	return nil
}

func (r *sortRun) ioError(err error) error {
	return sqlerr.Newf(sqlerr.CodeOutOfMemory, "ORDER BY needs more than work_mem and writing its temporary file failed: %v", err).
		WithHint("Raise work_mem, or make room in the temporary directory.")
}

// finishWriting flushes and closes the run; read opens it again.
func (r *sortRun) finishWriting() error {
	if err := r.w.Flush(); err != nil {
		return r.ioError(err)
	}
	err := r.f.Close()
	r.w, r.f = nil, nil
	if err != nil {
		return r.ioError(err)
	}
	return nil
}

// read returns the run's next row, nil at its end.
func (r *sortRun) read() ([]types.Datum, error) {
	if r.r == nil {
		if r.removed {
			return nil, sqlerr.Internalf("sort: reading a removed run")
		}
		f, err := os.Open(r.name)
		if err != nil {
			return nil, sqlerr.Internalf("sort: reopening a temporary file: %v", err)
		}
		r.f, r.r = f, bufio.NewReaderSize(f, 64<<10)
	}
	si, err := binary.ReadUvarint(r.r)
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, sqlerr.Internalf("sort: reading a temporary file: %v", err)
	}
	n, err := binary.ReadUvarint(r.r)
	if err != nil || si >= uint64(len(r.schemas)) || n > 1<<31 {
		return nil, sqlerr.Internalf("sort: corrupt temporary file (%v)", err)
	}
	if uint64(cap(r.buf)) < n {
		r.buf = make([]byte, n)
	}
	r.buf = r.buf[:n]
	if _, err := io.ReadFull(r.r, r.buf); err != nil {
		return nil, sqlerr.Internalf("sort: reading a temporary file: %v", err)
	}
	return rowenc.DecodeRow(r.schemas[si], r.buf)
}

// remove closes and deletes the file (idempotent).
func (r *sortRun) remove() {
	if r.removed {
		return
	}
	r.removed = true
	if r.f != nil {
		_ = r.f.Close()
		r.f = nil
	}
	_ = os.Remove(r.name)
}

// runMerger merges sorted runs: a heap of each run's next row; equal rows
// come from the earlier run first (stability).
type runMerger struct {
	runs []*sortRun
	less func(a, b []types.Datum) bool
	h    mergeHeap
}

type mergeItem struct {
	row []types.Datum
	run int
}

type mergeHeap struct {
	items []mergeItem
	less  func(a, b []types.Datum) bool
}

func (h *mergeHeap) Len() int { return len(h.items) }
func (h *mergeHeap) Less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	if h.less(a.row, b.row) {
		return true
	}
	if h.less(b.row, a.row) {
		return false
	}
	return a.run < b.run
}
func (h *mergeHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *mergeHeap) Push(x any)    { h.items = append(h.items, x.(mergeItem)) }
func (h *mergeHeap) Pop() any {
	it := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return it
}

func newRunMerger(runs []*sortRun, less func(a, b []types.Datum) bool) (*runMerger, error) {
	m := &runMerger{runs: runs, less: less, h: mergeHeap{less: less}}
	for i, r := range runs {
		row, err := r.read()
		if err != nil {
			return nil, err
		}
		if row != nil {
			m.h.items = append(m.h.items, mergeItem{row: row, run: i})
		}
	}
	heap.Init(&m.h)
	return m, nil
}

func (m *runMerger) next() ([]types.Datum, error) {
	if m.h.Len() == 0 {
		return nil, nil
	}
	top := m.h.items[0]
	row, err := m.runs[top.run].read()
	if err != nil {
		return nil, err
	}
	if row == nil {
		heap.Pop(&m.h)
	} else {
		m.h.items[0].row = row
		heap.Fix(&m.h, 0)
	}
	return top.row, nil
}
