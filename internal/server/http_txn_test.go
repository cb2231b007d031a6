package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestHTTPTxn(t *testing.T) {
	s := startTestServer(t, testConfig())
	h := newHTTPClient(t, s)
	c := dial(t, s)
	mustPut(t, c, "balance", "100")

	type result struct {
		Succeeded        bool   `json:"succeeded"`
		AlreadyCommitted bool   `json:"already_committed"`
		CommitTS         uint64 `json:"commit_ts"`
		Responses        []struct {
			Op, Key, Value string
			Found, Deleted *bool
		}
	}
	post := func(body string, hdr ...string) (int, result, []byte) {
		t.Helper()
		req, err := http.NewRequestWithContext(testCtx(t), "POST", h.base+"/v1/txn", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if len(hdr) == 2 {
			req.Header.Set(hdr[0], hdr[1])
		}
		resp, err := h.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r result
		var raw json.RawMessage
		_ = json.NewDecoder(resp.Body).Decode(&raw)
		_ = json.Unmarshal(raw, &r)
		return resp.StatusCode, r, raw
	}

	// The comparison holds: the success branch runs atomically.
	code, r, raw := post(`{"compare":[{"key":"balance","op":"equal","value":"100"}],
		"success":[{"op":"put","key":"balance","value":"70"},{"op":"put","key":"log/1","value":"-30"},{"op":"get","key":"balance"}],
		"failure":[{"op":"get","key":"balance"}]}`)
	if code != 200 || !r.Succeeded || len(r.Responses) != 3 || r.Responses[2].Value != "70" || r.CommitTS == 0 {
		t.Fatalf("success branch: %d %s", code, raw)
	}
	if v, _ := getString(t, c, "log/1"); v != "-30" {
		t.Fatalf("log/1 = %q", v)
	}
	// The comparison fails: the failure branch runs, nothing is written.
	code, r, raw = post(`{"compare":[{"key":"balance","op":"equal","value":"100"}],
		"success":[{"op":"put","key":"balance","value":"0"}],
		"failure":[{"op":"get","key":"balance"},{"op":"delete","key":"nope"}]}`)
	if code != 200 || r.Succeeded || len(r.Responses) != 2 || r.Responses[0].Value != "70" || *r.Responses[1].Deleted {
		t.Fatalf("failure branch: %d %s", code, raw)
	}
	// absent/exists/greater/less.
	code, r, raw = post(`{"compare":[{"key":"nope","op":"absent"},{"key":"balance","op":"exists"},
		{"key":"balance","op":"greater","value":"60"},{"key":"balance","op":"less","value":"80"}],
		"success":[{"op":"delete","key":"log/1"}]}`)
	if code != 200 || !r.Succeeded || !*r.Responses[0].Deleted {
		t.Fatalf("predicates: %d %s", code, raw)
	}
	// Idempotency-Key: the second request reports the first commit.
	body := `{"success":[{"op":"put","key":"once","value":"1"}]}`
	_, first, _ := post(body, "Idempotency-Key", "k-1")
	code, second, raw := post(body, "Idempotency-Key", "k-1")
	if code != 200 || !second.AlreadyCommitted || second.CommitTS != first.CommitTS {
		t.Fatalf("idempotent replay: %d %s (first %+v)", code, raw, first)
	}
	// Bad input: 400 with a message.
	for _, bad := range []string{
		`{`, `{"compare":[{"key":"a","op":"like","value":"x"}]}`, `{"compare":[{"key":"a","op":"equal"}]}`,
		`{"success":[{"op":"put","key":"a"}]}`, `{"success":[{"op":"put","value":"a"}]}`,
		`{"success":[{"op":"scan","key":"a"}]}`, `{"unknown":1}`, `{"success":[{"op":"get","key":""}]}`,
	} {
		code, _, raw := post(bad)
		if code != http.StatusBadRequest {
			t.Errorf("%s: status %d %s, want 400", bad, code, raw)
		}
	}
}
