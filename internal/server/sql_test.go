package server

import (
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func connectSQL(t *testing.T, s *Server) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(testCtx(t), "postgres://root@"+s.SQLAddr()+"/defaultdb?sslmode=disable")
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(testCtx(t)) })
	return conn
}

func TestSQLSessionBasics(t *testing.T) {
	s := startTestServer(t, testConfig())
	conn := connectSQL(t, s)
	ctx := testCtx(t)
	var v string
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&v); err != nil || v != "16.0" {
		t.Fatalf("server_version = %q, %v", v, err)
	}
	if _, err := conn.Exec(ctx, "SET application_name = 'cairn-test'"); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SHOW application_name").Scan(&v); err != nil || v != "cairn-test" {
		t.Fatalf("application_name = %q, %v", v, err)
	}
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.QueryRow(ctx, "SHOW transaction_isolation").Scan(&v); err != nil || v != "repeatable read" {
		t.Fatalf("transaction_isolation = %q, %v", v, err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	var pgErr *pgconn.PgError
	if _, err := conn.Exec(ctx, "SET no_such_setting = 1"); !errors.As(err, &pgErr) || pgErr.Code != "42704" {
		t.Fatalf("unknown setting: %v", err)
	}
	if _, err := conn.Exec(ctx, "SELEC 1"); !errors.As(err, &pgErr) || pgErr.Code != "42601" || pgErr.Position != 1 {
		t.Fatalf("syntax error: %v", err)
	}
	// A failed transaction block refuses statements until ROLLBACK.
	if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	_, _ = conn.Exec(ctx, "SET no_such_setting = 1")
	if _, err := conn.Exec(ctx, "SHOW application_name"); !errors.As(err, &pgErr) || pgErr.Code != "25P02" {
		t.Fatalf("in failed txn: %v", err)
	}
	if _, err := conn.Exec(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SHOW application_name").Scan(&v); err != nil {
		t.Fatal(err)
	}
}
