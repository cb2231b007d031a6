package server

import (
	"os/exec"
	"strings"
	"testing"
)

// TestSQLPsqlFunctionsAndRoles runs psql's \df and \du (pg_proc,
// pg_roles, pg_auth_members and the pg_get_function_* functions), if psql
// is installed.
func TestSQLPsqlFunctionsAndRoles(t *testing.T) {
	psql := psqlPath(t)
	s := startTestServer(t, testConfig())
	run := psqlRunner(t, psql, s)
	for _, tc := range []struct {
		cmd  string
		want []string
	}{
		// No user-defined functions: the built-ins are in pg_catalog.
		{`\df`, []string{"List of functions", "Schema | Name | Result data type | Argument data types | Type", "(0 rows)"}},
		{`\dfS lower`, []string{"pg_catalog | lower | text             | text                | func", "(1 row)"}},
		{`\dfS+ pg_get_function_result`, []string{"pg_get_function_result | text", "oid"}},
		{`\dfS+ lower`, []string{"| func | immutable  | safe     | root  | invoker  |                   | internal | lower"}},
		{`\df abs`, []string{"pg_catalog | abs  | bigint           | bigint              | func", "(6 rows)"}},
		{`\du`, []string{"List of roles", "root", "Superuser, Create role, Create DB, Replication, Bypass RLS"}},
		{`\du root`, []string{"root", "Superuser"}},
		{`\du nobody`, []string{"Role name | Attributes"}},
	} {
		out := run(tc.cmd)
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("psql -c %q: output lacks %q:\n%s", tc.cmd, w, out)
			}
		}
	}
}

// TestSQLPsqlDescribeForeignKeys runs psql's \d on tables with foreign
// keys (pg_class.relhastriggers, pg_trigger, regclass output,
// pg_partition_ancestors), if psql is installed: the "Foreign-key
// constraints:" and "Referenced by:" sections must be PostgreSQL 15's,
// line for line, and a table without foreign keys has neither.
func TestSQLPsqlDescribeForeignKeys(t *testing.T) {
	psql := psqlPath(t)
	s := startTestServer(t, testConfig())
	run := psqlRunner(t, psql, s)
	for _, ddl := range []string{
		`CREATE TABLE parent (id int PRIMARY KEY, name text)`,
		`CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent, note text)`,
		`CREATE TABLE mp (a int, b int, c text, PRIMARY KEY (a, b))`,
		`CREATE TABLE mc (id int PRIMARY KEY, x int, y int, CONSTRAINT mc_xy_fk FOREIGN KEY (x, y) REFERENCES mp (a, b) ON DELETE CASCADE ON UPDATE SET NULL)`,
		`CREATE TABLE emp (id int PRIMARY KEY, boss int REFERENCES emp(id))`,
		`CREATE TABLE child2 (id int PRIMARY KEY, pid int, FOREIGN KEY (pid) REFERENCES parent (id) MATCH FULL ON DELETE SET DEFAULT)`,
		`CREATE TABLE "Weird P" (id int PRIMARY KEY)`,
		`CREATE TABLE "Weird C" (id int PRIMARY KEY, "P id" int REFERENCES "Weird P")`,
		`CREATE TABLE plain (id int PRIMARY KEY, v text UNIQUE)`,
	} {
		run(ddl)
	}
	// PostgreSQL 15's output, from "Indexes:" on.
	for _, tc := range []struct {
		cmd  string
		want string
	}{
		{`\d child`, `Indexes:
    "child_pkey" PRIMARY KEY, btree (id)
Foreign-key constraints:
    "child_parent_id_fkey" FOREIGN KEY (parent_id) REFERENCES parent(id)
`},
		{`\d parent`, `Indexes:
    "parent_pkey" PRIMARY KEY, btree (id)
Referenced by:
    TABLE "child2" CONSTRAINT "child2_pid_fkey" FOREIGN KEY (pid) REFERENCES parent(id) MATCH FULL ON DELETE SET DEFAULT
    TABLE "child" CONSTRAINT "child_parent_id_fkey" FOREIGN KEY (parent_id) REFERENCES parent(id)
`},
		{`\d mc`, `Indexes:
    "mc_pkey" PRIMARY KEY, btree (id)
Foreign-key constraints:
    "mc_xy_fk" FOREIGN KEY (x, y) REFERENCES mp(a, b) ON UPDATE SET NULL ON DELETE CASCADE
`},
		{`\d mp`, `Indexes:
    "mp_pkey" PRIMARY KEY, btree (a, b)
Referenced by:
    TABLE "mc" CONSTRAINT "mc_xy_fk" FOREIGN KEY (x, y) REFERENCES mp(a, b) ON UPDATE SET NULL ON DELETE CASCADE
`},
		{`\d emp`, `Indexes:
    "emp_pkey" PRIMARY KEY, btree (id)
Foreign-key constraints:
    "emp_boss_fkey" FOREIGN KEY (boss) REFERENCES emp(id)
Referenced by:
    TABLE "emp" CONSTRAINT "emp_boss_fkey" FOREIGN KEY (boss) REFERENCES emp(id)
`},
		{`\d "Weird C"`, `Indexes:
    "Weird C_pkey" PRIMARY KEY, btree (id)
Foreign-key constraints:
    "Weird C_P id_fkey" FOREIGN KEY ("P id") REFERENCES "Weird P"(id)
`},
		{`\d "Weird P"`, `Indexes:
    "Weird P_pkey" PRIMARY KEY, btree (id)
Referenced by:
    TABLE ""Weird C"" CONSTRAINT "Weird C_P id_fkey" FOREIGN KEY ("P id") REFERENCES "Weird P"(id)
`},
		{`\d plain`, `Indexes:
    "plain_pkey" PRIMARY KEY, btree (id)
    "plain_v_key" UNIQUE CONSTRAINT, btree (v)
`},
		{`\d+ child`, `Indexes:
    "child_pkey" PRIMARY KEY, btree (id)
Foreign-key constraints:
    "child_parent_id_fkey" FOREIGN KEY (parent_id) REFERENCES parent(id)
Access method: heap
`},
		{`\d+ parent`, `Indexes:
    "parent_pkey" PRIMARY KEY, btree (id)
Referenced by:
    TABLE "child2" CONSTRAINT "child2_pid_fkey" FOREIGN KEY (pid) REFERENCES parent(id) MATCH FULL ON DELETE SET DEFAULT
    TABLE "child" CONSTRAINT "child_parent_id_fkey" FOREIGN KEY (parent_id) REFERENCES parent(id)
Access method: heap
`},
	} {
		out := run(tc.cmd)
		i := strings.Index(out, "Indexes:")
		if i < 0 || strings.TrimRight(out[i:], "\n")+"\n" != tc.want {
			t.Errorf("psql -c %q: got\n%s\nwant (from Indexes:)\n%s", tc.cmd, out, tc.want)
		}
	}
	// The catalog functions and casts psql's \d relies on.
	for _, tc := range []struct {
		cmd  string
		want []string
	}{
		{`SELECT conrelid::pg_catalog.regclass AS ontable, confrelid::regclass::text AS reftable FROM pg_constraint WHERE conname = 'child_parent_id_fkey'`,
			[]string{" child   | parent", "(1 row)"}},
		{`SELECT relname, relhastriggers FROM pg_class WHERE relname IN ('parent', 'child', 'plain', 'parent_pkey') ORDER BY 1`,
			[]string{" child       | t", " parent      | t", " parent_pkey | f", " plain       | f"}},
		{`SELECT count(*) FROM pg_constraint WHERE confrelid IN (SELECT pg_catalog.pg_partition_ancestors('parent') UNION ALL VALUES ('parent'::pg_catalog.regclass))`,
			[]string{" 2\n"}},
		{`SELECT * FROM pg_partition_ancestors('child') WITH ORDINALITY`, []string{"relid | ordinality", "(0 rows)"}},
		{`SELECT 'child'::regclass, 'child'::regclass::oid = 'child'::regclass, 424242::regclass`, []string{" child    | t        | 424242"}},
	} {
		out := run(tc.cmd)
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("psql -c %q: output lacks %q:\n%s", tc.cmd, w, out)
			}
		}
	}
}

// psqlPath returns the psql binary, skipping the test when there is none.
func psqlPath(t *testing.T) string {
	t.Helper()
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed")
	}
	return psql
}

// psqlRunner returns a function running one psql -c command against s's
// defaultdb, failing the test on any error.
func psqlRunner(t *testing.T, psql string, s *Server) func(cmd string) string {
	url := "postgres://root@" + s.SQLAddr() + "/defaultdb?sslmode=disable"
	return func(cmd string) string {
		t.Helper()
		out, err := exec.CommandContext(testCtx(t), psql, "-X", "-v", "ON_ERROR_STOP=1", url, "-c", cmd).CombinedOutput()
		if err != nil || strings.Contains(string(out), "ERROR") {
			t.Fatalf("psql -c %q: %v\n%s", cmd, err, out)
		}
		return string(out)
	}
}
