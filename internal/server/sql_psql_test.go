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
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed")
	}
	s := startTestServer(t, testConfig())
	url := "postgres://root@" + s.SQLAddr() + "/defaultdb?sslmode=disable"
	run := func(cmd string) string {
		t.Helper()
		out, err := exec.CommandContext(testCtx(t), psql, "-X", "-v", "ON_ERROR_STOP=1", url, "-c", cmd).CombinedOutput()
		if err != nil || strings.Contains(string(out), "ERROR") {
			t.Fatalf("psql -c %q: %v\n%s", cmd, err, out)
		}
		return string(out)
	}
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
