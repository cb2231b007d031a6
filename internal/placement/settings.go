package placement

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kv"
)

// Settings are the cluster settings, stored as text in the meta range.
type Settings struct {
	// Replicas is the replication factor (voters per range).
	Replicas int
	// DeadNodeTimeout: a node unseen this long has its replicas replaced.
	DeadNodeTimeout time.Duration
	// RangeMaxBytes: a larger range is split.
	RangeMaxBytes int64
	// GCTTL: MVCC versions overwritten (or deleted) longer ago than this are
	// garbage-collected; reads and transactions further in the past fail.
	GCTTL time.Duration
	// TxnRecordTTL is the idempotency window: a committed transaction's
	// record (its idempotency key) is collected this long after the commit.
	TxnRecordTTL time.Duration
}

// Setting names.
const (
	SettingReplicas        = "replicas"
	SettingDeadNodeTimeout = "dead_node_timeout"
	SettingRangeMaxBytes   = "range_max_bytes"
	SettingGCTTL           = "gc_ttl"
	SettingTxnRecordTTL    = "txn_record_ttl"
)

// DefaultSettings are used for settings never set.
func DefaultSettings() Settings {
	return Settings{Replicas: 3, DeadNodeTimeout: 5 * time.Minute, RangeMaxBytes: 64 << 20, GCTTL: 4 * time.Hour, TxnRecordTTL: time.Hour}
}

// settingSpecs validate and apply each setting.
var settingSpecs = map[string]func(s *Settings, v string) error{
	SettingReplicas: func(s *Settings, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 7 {
			return fmt.Errorf("replicas must be an integer from 1 to 7, got %q", v)
		}
		s.Replicas = n
		return nil
	},
	SettingDeadNodeTimeout: func(s *Settings, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			return fmt.Errorf("dead_node_timeout must be a duration of at least 1s (like 5m), got %q", v)
		}
		s.DeadNodeTimeout = d
		return nil
	},
	SettingRangeMaxBytes: func(s *Settings, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 64<<10 || n > 1<<30 {
			return fmt.Errorf("range_max_bytes must be an integer from 65536 to 1073741824, got %q", v)
		}
		s.RangeMaxBytes = n
		return nil
	},
	SettingGCTTL: func(s *Settings, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second || d > maxTTL {
			return fmt.Errorf("gc_ttl must be a duration from 1s to 8760h (like 4h), got %q", v)
		}
		s.GCTTL = d
		return nil
	},
	SettingTxnRecordTTL: func(s *Settings, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second || d > maxTTL {
			return fmt.Errorf("txn_record_ttl must be a duration from 1s to 8760h (like 1h), got %q", v)
		}
		s.TxnRecordTTL = d
		return nil
	},
}

// maxTTL bounds gc_ttl and txn_record_ttl (a year).
const maxTTL = 365 * 24 * time.Hour

// SettingNames lists the known settings.
func SettingNames() []string {
	names := make([]string, 0, len(settingSpecs))
	for n := range settingSpecs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// SetSetting validates and stores a setting.
func SetSetting(ctx context.Context, db *kv.DB, name, value string) error {
	spec, ok := settingSpecs[name]
	if !ok {
		return fmt.Errorf("unknown setting %q (known: %s)", name, strings.Join(SettingNames(), ", "))
	}
	var s Settings
	if err := spec(&s, value); err != nil {
		return err
	}
	_, err := db.Put(ctx, keys.SettingKey(name), []byte(value))
	return err
}

// ReadSettings reads every setting, with defaults for those never set. A
// stored value that no longer validates keeps the default.
func ReadSettings(ctx context.Context, db *kv.DB) (Settings, map[string]string, error) {
	s := DefaultSettings()
	raw := map[string]string{
		SettingReplicas:        strconv.Itoa(s.Replicas),
		SettingDeadNodeTimeout: s.DeadNodeTimeout.String(),
		SettingRangeMaxBytes:   strconv.FormatInt(s.RangeMaxBytes, 10),
		SettingGCTTL:           s.GCTTL.String(),
		SettingTxnRecordTTL:    s.TxnRecordTTL.String(),
	}
	start, end := keys.SettingSpan()
	resp, err := db.Scan(ctx, start, end, 1000)
	if err != nil {
		return s, nil, fmt.Errorf("reading cluster settings: %w", err)
	}
	for _, kv := range resp.Kvs {
		name := string(kv.Key[len(start):])
		if spec, ok := settingSpecs[name]; ok && spec(&s, string(kv.Value)) == nil {
			raw[name] = string(kv.Value)
		}
	}
	return s, raw, nil
}
