package sem

import "testing"

func TestConstants(t *testing.T) {
	runEvalCases(t, []evalCase{
		{"1", "1"},
		{"-1", "-1"},
		{"2147483647", "2147483647"},
		{"2147483648", "2147483648"},
		{"9223372036854775807", "9223372036854775807"},
		{"-9223372036854775808", "-9223372036854775808"},
		{"9223372036854775808", "9223372036854775808"},
		{"1.50", "1.50"},
		{"1e3", "1000"},
		{".5", "0.5"},
		{"'abc'", "abc"},
		{"true", "t"},
		{"NULL", "NULL"},
		{"0x1F", "31"},
		{"1_000", "1000"},
	})
	for sql, want := range map[string]string{
		"1": "integer", "2147483648": "bigint", "9223372036854775808": "numeric", "1.5": "numeric",
		"'x'": "text", "NULL": "text", "true": "boolean", "1e3": "numeric",
	} {
		if got := typeOf(t, sql); got != want {
			t.Errorf("type of %s: %s, want %s", sql, got, want)
		}
	}
}
