package server

import (
	"strings"
	"testing"
)

func setupCatalogTables(t *testing.T, s *Server) {
	t.Helper()
	conn := connectSQL(t, s)
	for _, sql := range []string{
		`CREATE TABLE accounts (id INT PRIMARY KEY, owner TEXT NOT NULL, balance INT DEFAULT 0, note VARCHAR(20))`,
		`CREATE INDEX accounts_owner_idx ON accounts (owner)`,
		`ALTER TABLE accounts ADD CONSTRAINT balance_nonneg CHECK (balance >= 0)`,
		`CREATE TABLE tags (name TEXT UNIQUE)`,
	} {
		if _, err := conn.Exec(testCtx(t), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}

// TestSQLCatalogPsql runs psql's describe commands (which query
// pg_catalog) against a node, if psql is installed.
func TestSQLCatalogPsql(t *testing.T) {
	psql := psqlPath(t)
	s := startTestServer(t, testConfig())
	setupCatalogTables(t, s)
	run := psqlRunner(t, psql, s)
	for _, tc := range []struct {
		cmd  string
		want []string
	}{
		{`\dt`, []string{"public | accounts | table | root", "public | tags     | table | root", "(2 rows)"}},
		{`\d accounts`, []string{`Table "public.accounts"`,
			"id      | integer               |           | not null |",
			"owner   | text                  |           | not null |",
			"balance | integer               |           |          | 0",
			"note    | character varying(20) |           |          |",
			`"accounts_pkey" PRIMARY KEY, btree (id)`,
			`"accounts_owner_idx" btree (owner)`,
			`"balance_nonneg" CHECK (balance >= 0)`}},
		{`\d tags`, []string{`"tags_name_key" UNIQUE CONSTRAINT, btree (name)`}},
		{`\di`, []string{"public | accounts_owner_idx | index | root  | accounts",
			"public | accounts_pkey      | index | root  | accounts", "public | tags_name_key      | index | root  | tags"}},
		{`\l`, []string{" defaultdb | root  | UTF8", " postgres  | root  | UTF8"}},
		{`\d accounts_owner_idx`, []string{`Index "public.accounts_owner_idx"`, "owner  | text | yes  | owner",
			`btree, for table "public.accounts"`}},
		{`\dn`, []string{"public | root"}},
	} {
		out := run(tc.cmd)
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("psql -c %q: output lacks %q:\n%s", tc.cmd, w, out)
			}
		}
	}
}

func TestSQLCatalogQueries(t *testing.T) {
	s := startTestServer(t, testConfig())
	setupCatalogTables(t, s)
	conn := connectSQL(t, s)
	for _, tc := range []struct{ sql, want string }{
		{`SELECT column_name, ordinal_position, data_type, is_nullable, column_default, character_maximum_length
		  FROM information_schema.columns WHERE table_name = 'accounts' ORDER BY ordinal_position`,
			`id|1|integer|NO|NULL|NULL ; owner|2|text|NO|NULL|NULL ; balance|3|integer|YES|0|NULL ; note|4|character varying|YES|NULL|20`},
		{`SELECT table_schema, table_name, table_type FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 2`,
			`public|accounts|BASE TABLE ; public|tags|BASE TABLE`},
		{`SELECT schema_name FROM information_schema.schemata ORDER BY 1`, `information_schema ; pg_catalog ; public`},
		// Unqualified pg_catalog names; regclass; relkind; attributes.
		{`SELECT relname, relkind FROM pg_class WHERE oid = 'accounts'::regclass`, `accounts|r`},
		{`SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.atthasdef FROM pg_attribute a
		  WHERE a.attrelid = 'public.accounts'::regclass AND a.attnum > 0 ORDER BY a.attnum`,
			`id|integer|t|f ; owner|text|t|f ; balance|integer|f|t ; note|character varying(20)|f|f`},
		{`SELECT c.relname, i.indisprimary, i.indisunique, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		  WHERE i.indrelid = 'accounts'::regclass ORDER BY 1`,
			`accounts_owner_idx|f|f|CREATE INDEX accounts_owner_idx ON public.accounts USING btree (owner) ; ` +
				`accounts_pkey|t|t|CREATE UNIQUE INDEX accounts_pkey ON public.accounts USING btree (id)`},
		{`SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_catalog.pg_constraint WHERE conrelid = 'accounts'::regclass ORDER BY 1`,
			`accounts_pkey|p|PRIMARY KEY (id) ; balance_nonneg|c|CHECK (balance >= 0)`},
		{`SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		  WHERE c.relname OPERATOR(pg_catalog.~) '^(acc.*)$' COLLATE pg_catalog.default AND pg_catalog.pg_table_is_visible(c.oid) ORDER BY 2`,
			`public|accounts ; public|accounts_owner_idx ; public|accounts_pkey`},
		{`SELECT datname FROM pg_database ORDER BY 1`, `defaultdb ; postgres`},
		{`SELECT name, setting FROM pg_settings WHERE name IN ('application_name', 'DateStyle') ORDER BY 1`, `DateStyle|ISO, MDY ; application_name|`},
		{`SELECT typname, typlen FROM pg_type WHERE oid = 'int4'::regtype OR typname = '_text' ORDER BY 1`, `_text|-1 ; int4|4`},
		{`SELECT current_schemas(true), current_schemas(false)`, `{pg_catalog,public}|{public}`},
		// Subqueries: scalar (correlated), EXISTS, IN, ARRAY.
		{`SELECT c.relname, (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0)
		  FROM pg_class c WHERE c.relkind = 'r' AND c.relnamespace = 2200 ORDER BY 1`, `accounts|4 ; tags|1`},
		{`SELECT relname FROM pg_class c WHERE relnamespace = 2200 AND EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)`, `accounts`},
		{`SELECT relname FROM pg_class WHERE oid IN (SELECT indrelid FROM pg_index WHERE NOT indisprimary) ORDER BY 1`, `accounts ; tags`},
		{`SELECT array(SELECT attname FROM pg_attribute WHERE attrelid = 'tags'::regclass)`, `{name}`},
		// Set operations and functions in FROM.
		{`SELECT 1 UNION SELECT 2 UNION ALL SELECT 2 ORDER BY 1 DESC`, `2 ; 2 ; 1`},
		{`SELECT relname FROM pg_class WHERE relname = 'tags' UNION SELECT 'x' EXCEPT SELECT 'x'`, `tags`},
		{`SELECT s FROM generate_series(1, 3) s ORDER BY s DESC`, `3 ; 2 ; 1`},
	} {
		got, _, err := textQuery(t, conn, tc.sql)
		if err != nil {
			t.Errorf("%s: %v", tc.sql, err)
			continue
		}
		if tc.want != "" && got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.sql, got, tc.want)
		}
	}
}

// TestSQLCatalogPgx reads the catalogs through pgx's extended protocol,
// with parameters (inside subqueries and regclass casts too).
func TestSQLCatalogPgx(t *testing.T) {
	s := startTestServer(t, testConfig())
	setupCatalogTables(t, s)
	conn := connectSQL(t, s)
	ctx := testCtx(t)
	rows, err := conn.Query(ctx, `SELECT column_name, data_type, is_nullable FROM information_schema.columns
		WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`, "accounts")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var name, typ, nullable string
		if err := rows.Scan(&name, &typ, &nullable); err != nil {
			t.Fatal(err)
		}
		got = append(got, name+" "+typ+" "+nullable)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := "id integer NO,owner text NO,balance integer YES,note character varying YES"; strings.Join(got, ",") != want {
		t.Errorf("columns: got %q, want %q", strings.Join(got, ","), want)
	}
	var n int64
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0`, "accounts").Scan(&n); err != nil || n != 4 {
		t.Errorf("attributes of $1::regclass: %d, %v", n, err)
	}
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid AND i.indisunique = $1)
		FROM pg_class c WHERE c.relname = $2`, true, "accounts").Scan(&n); err != nil || n != 1 {
		t.Errorf("unique indexes: %d, %v", n, err)
	}
	var oid uint32
	if err := conn.QueryRow(ctx, `SELECT oid FROM pg_class WHERE relname = 'accounts'`).Scan(&oid); err != nil || oid < 100 {
		t.Errorf("pg_class oid: %d, %v", oid, err)
	}
}
