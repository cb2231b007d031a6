package parser

import (
	"errors"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	pgparser "github.com/pganalyze/pg_query_go/v6/parser"
)

// Statement is one parsed statement and its text.
type Statement struct {
	AST *pg_query.Node
	// SQL is the statement's own text (without the separating semicolon).
	SQL string
}

// SyntaxError is a parse failure: SQLSTATE 42601, with the position (1-based
// character offset into the query, 0 if unknown) PostgreSQL would report.
type SyntaxError struct {
	Message  string
	Position int
}

func (e *SyntaxError) Error() string { return e.Message }

// MaxQueryBytes bounds the text handed to the parser.
const MaxQueryBytes = 16 << 20

// Parse splits sql into statements and parses them. An empty query (only
// whitespace, comments and semicolons) returns no statements.
func Parse(sql string) ([]Statement, error) {
	if len(sql) > MaxQueryBytes {
		return nil, &SyntaxError{Message: "query text exceeds 16 MiB"}
	}
	res, err := pg_query.Parse(sql)
	if err != nil {
		return nil, toSyntaxError(err)
	}
	out := make([]Statement, 0, len(res.Stmts))
	for _, raw := range res.Stmts {
		start := int(raw.StmtLocation)
		end := len(sql)
		if raw.StmtLen > 0 {
			end = start + int(raw.StmtLen)
		}
		if start < 0 || start > len(sql) || end > len(sql) || start > end {
			start, end = 0, len(sql)
		}
		out = append(out, Statement{AST: raw.Stmt, SQL: strings.TrimSpace(sql[start:end])})
	}
	return out, nil
}

// ParseOne parses a query that must hold exactly one statement.
func ParseOne(sql string) (Statement, error) {
	stmts, err := Parse(sql)
	if err != nil {
		return Statement{}, err
	}
	if len(stmts) != 1 {
		return Statement{}, &SyntaxError{Message: "expected exactly one statement"}
	}
	return stmts[0], nil
}

func toSyntaxError(err error) error {
	var perr *pgparser.Error
	if errors.As(err, &perr) {
		// Cursorpos already counts characters, as PostgreSQL's position does.
		return &SyntaxError{Message: perr.Message, Position: perr.Cursorpos}
	}
	return &SyntaxError{Message: err.Error()}
}
