package placement

import (
	"testing"
	"time"
)

func TestSettingSpecs(t *testing.T) {
	for _, c := range []struct {
		name, value string
		ok          bool
		check       func(s Settings) bool
	}{
		{SettingGCTTL, "4h", true, func(s Settings) bool { return s.GCTTL == 4*time.Hour }},
		{SettingGCTTL, "1s", true, func(s Settings) bool { return s.GCTTL == time.Second }},
		{SettingGCTTL, "999ms", false, nil},
		{SettingGCTTL, "0", false, nil},
		{SettingGCTTL, "-1h", false, nil},
		{SettingGCTTL, "9000h", false, nil},
		{SettingGCTTL, "forever", false, nil},
		{SettingTxnRecordTTL, "30m", true, func(s Settings) bool { return s.TxnRecordTTL == 30*time.Minute }},
		{SettingTxnRecordTTL, "1s", true, func(s Settings) bool { return s.TxnRecordTTL == time.Second }},
		{SettingTxnRecordTTL, "100ms", false, nil},
		{SettingTxnRecordTTL, "", false, nil},
		{SettingReplicas, "3", true, func(s Settings) bool { return s.Replicas == 3 }},
	} {
		s := DefaultSettings()
		err := settingSpecs[c.name](&s, c.value)
		if (err == nil) != c.ok {
			t.Errorf("%s=%q: err %v, want ok=%v", c.name, c.value, err, c.ok)
			continue
		}
		if c.ok && !c.check(s) {
			t.Errorf("%s=%q: not applied: %+v", c.name, c.value, s)
		}
	}
	d := DefaultSettings()
	if d.GCTTL != 4*time.Hour || d.TxnRecordTTL != time.Hour {
		t.Errorf("defaults: gc_ttl %v, txn_record_ttl %v", d.GCTTL, d.TxnRecordTTL)
	}
	names := SettingNames()
	want := map[string]bool{SettingGCTTL: false, SettingTxnRecordTTL: false}
	for _, n := range names {
		if _, ok := want[n]; ok {
			want[n] = true
		}
	}
	for n, found := range want {
		if !found {
			t.Errorf("%s missing from SettingNames: %v", n, names)
		}
	}
}
