package parser

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	stmts, err := Parse("SELECT 1; INSERT INTO t VALUES (1, 'a;b');  ;")
	if err != nil {
		t.Fatal(err)
	}
	if len(stmts) != 2 || stmts[0].SQL != "SELECT 1" || stmts[1].SQL != "INSERT INTO t VALUES (1, 'a;b')" {
		t.Fatalf("statements: %+v", stmts)
	}
	if stmts[0].AST.GetSelectStmt() == nil || stmts[1].AST.GetInsertStmt() == nil {
		t.Fatalf("wrong node types: %v / %v", stmts[0].AST, stmts[1].AST)
	}
	if stmts, err := Parse(" -- nothing\n ; "); err != nil || len(stmts) != 0 {
		t.Fatalf("empty query: %v %v", stmts, err)
	}
}

func TestSyntaxErrorPosition(t *testing.T) {
	for _, tc := range []struct {
		sql string
		pos int
	}{
		{"SELECT * FROM", 14},
		{"SELEC 1", 1},
		{"SELECT 'é', * FRM t", 15}, // characters, not bytes
	} {
		_, err := Parse(tc.sql)
		var se *SyntaxError
		if !errors.As(err, &se) || se.Position != tc.pos {
			t.Errorf("%q: %v (position %d), want position %d", tc.sql, err, se.Position, tc.pos)
		}
	}
	if _, err := ParseOne("SELECT 1; SELECT 2"); err == nil {
		t.Error("ParseOne accepted two statements")
	}
}
