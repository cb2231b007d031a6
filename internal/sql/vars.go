package sql

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/cairndb/cairn/internal/sql/catalog"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
)

// sessionVar describes a setting SET and SHOW know.
type sessionVar struct {
	def string
	// reported settings are sent to the client (ParameterStatus) on change.
	reported bool
	// readOnly settings can be shown but not set.
	readOnly bool
	// normalize validates and canonicalises a new value.
	normalize func(string) (string, error)
}

func oneOf(name string, allowed ...string) func(string) (string, error) {
	return func(v string) (string, error) {
		for _, a := range allowed {
			if strings.EqualFold(v, a) {
				return a, nil
			}
		}
		return "", sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "invalid value for parameter %q: %q", name, v).
			WithHint("Available values: %s.", strings.Join(allowed, ", "))
	}
}

func isolationValue(v string) (string, error) {
	switch strings.ToLower(strings.Join(strings.Fields(v), " ")) {
	case "serializable":
		return "serializable", nil
	case "repeatable read", "snapshot":
		return "repeatable read", nil
	case "read committed", "read uncommitted":
		return "read committed", nil
	}
	return "", sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "invalid value for parameter \"transaction_isolation\": %q", v)
}

func intValue(name string) func(string) (string, error) {
	return func(v string) (string, error) {
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return "", sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "invalid value for parameter %q: %q", name, v)
		}
		return v, nil
	}
}

func anyValue(v string) (string, error) { return v, nil }

// sessionVars are the settings a session knows, by lower-case name.
var sessionVars = map[string]sessionVar{
	"application_name":                    {def: "", reported: true, normalize: anyValue},
	"client_encoding":                     {def: "UTF8", reported: true, normalize: oneOf("client_encoding", "UTF8")},
	"server_encoding":                     {def: "UTF8", readOnly: true},
	"datestyle":                           {def: "ISO, MDY", reported: true, normalize: oneOf("DateStyle", "ISO, MDY", "ISO")},
	"intervalstyle":                       {def: "postgres", reported: true, normalize: oneOf("IntervalStyle", "postgres")},
	"timezone":                            {def: "UTC", reported: true, normalize: oneOf("TimeZone", "UTC", "Etc/UTC", "GMT")},
	"search_path":                         {def: "\"$user\", public", normalize: anyValue},
	"default_transaction_isolation":       {def: "serializable", normalize: isolationValue},
	"transaction_isolation":               {def: "serializable", normalize: isolationValue},
	"default_transaction_read_only":       {def: "off", reported: true, normalize: oneOf("default_transaction_read_only", "off")},
	"transaction_read_only":               {def: "off", normalize: oneOf("transaction_read_only", "off")},
	"statement_timeout":                   {def: "0", normalize: intValue("statement_timeout")},
	"lock_timeout":                        {def: "0", normalize: intValue("lock_timeout")},
	"idle_in_transaction_session_timeout": {def: "0", normalize: intValue("idle_in_transaction_session_timeout")},
	"extra_float_digits":                  {def: "1", normalize: intValue("extra_float_digits")},
	"standard_conforming_strings":         {def: "on", reported: true, normalize: oneOf("standard_conforming_strings", "on")},
	"integer_datetimes":                   {def: "on", reported: true, readOnly: true},
	"server_version":                      {def: serverVersionNumber, reported: true, readOnly: true},
	"server_version_num":                  {def: "160000", readOnly: true},
	"max_identifier_length":               {def: "63", readOnly: true},
	"synchronous_commit":                  {def: "on", normalize: oneOf("synchronous_commit", "on")},
	"client_min_messages":                 {def: "notice", normalize: oneOf("client_min_messages", "debug5", "debug4", "debug3", "debug2", "debug1", "log", "notice", "warning", "error")},
	"row_security":                        {def: "on", normalize: oneOf("row_security", "on", "off")},
	"bytea_output":                        {def: "hex", normalize: oneOf("bytea_output", "hex")},
	"jit":                                 {def: "off", normalize: oneOf("jit", "off", "on")},
	// work_mem bounds the memory of each sort and hash table of a query
	// (see sort.go): past it sorts spill to temporary files, and hash
	// aggregation and DISTINCT fail with 53200.
	"work_mem": {def: "64MB", normalize: workMemValue},
	// hash_partition_buckets is the number of buckets of a table created
	// with PARTITION BY HASH and no WITH (buckets = n).
	"hash_partition_buckets": {def: "16", normalize: bucketsValue},
}

// Bounds of work_mem, in kB, as PostgreSQL's.
const (
	minWorkMemKB = 64
	maxWorkMemKB = 2147483647
)

// parseMemoryKB parses a memory setting with PostgreSQL's units (B, kB,
// MB, GB, TB; a bare number is kB) into kB, rounding down.
func parseMemoryKB(v string) (int64, bool) {
	s := strings.TrimSpace(v)
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' || (i == 0 && (s[i] == '-' || s[i] == '+'))) {
		i++
	}
	num, unit := s[:i], strings.TrimSpace(s[i:])
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || num == "" {
		return 0, false
	}
	var mult float64
	switch unit {
	case "":
		mult = 1
	case "B":
		mult = 1.0 / 1024
	case "kB":
		mult = 1
	case "MB":
		mult = 1024
	case "GB":
		mult = 1024 * 1024
	case "TB":
		mult = 1024 * 1024 * 1024
	default:
		return 0, false
	}
	kb := f * mult
	if kb != kb || kb > 1<<62 || kb < -(1<<62) {
		return 0, false
	}
	return int64(kb + 0.5), true
}

// formatMemoryKB renders kB as PostgreSQL's SHOW does: in the largest unit
// that divides it.
func formatMemoryKB(kb int64) string {
	switch {
	case kb%(1024*1024*1024) == 0:
		return strconv.FormatInt(kb/(1024*1024*1024), 10) + "TB"
	case kb%(1024*1024) == 0:
		return strconv.FormatInt(kb/(1024*1024), 10) + "GB"
	case kb%1024 == 0:
		return strconv.FormatInt(kb/1024, 10) + "MB"
	}
	return strconv.FormatInt(kb, 10) + "kB"
}

func workMemValue(v string) (string, error) {
	kb, ok := parseMemoryKB(v)
	if !ok {
		return "", sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "invalid value for parameter \"work_mem\": %q", v).
			WithHint("Valid units for this parameter are \"B\", \"kB\", \"MB\", \"GB\", and \"TB\".")
	}
	if kb < minWorkMemKB || kb > maxWorkMemKB {
		return "", sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "%d kB is outside the valid range for parameter \"work_mem\" (%d .. %d)", kb, minWorkMemKB, maxWorkMemKB)
	}
	return formatMemoryKB(kb), nil
}

func bucketsValue(v string) (string, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
	if err != nil || n < 1 || n > catalog.MaxHashBuckets {
		return "", sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "invalid value for parameter \"hash_partition_buckets\": %q", v).
			WithHint("The number of buckets must be between 1 and %d.", catalog.MaxHashBuckets)
	}
	return strconv.FormatInt(n, 10), nil
}

// hashMemMultiplier: hash aggregation and DISTINCT may use this many times
// work_mem (they do not spill; 256 MB with the default work_mem).
const hashMemMultiplier = 4

// hashMemBytes is the memory bound of a hash aggregation or DISTINCT.
func (v vars) hashMemBytes() int64 { return hashMemMultiplier * v.workMemBytes() }

// workMemBytes is the session's work_mem in bytes.
func (v vars) workMemBytes() int64 {
	if kb, ok := parseMemoryKB(v.values["work_mem"]); ok && kb > 0 {
		return kb * 1024
	}
	return 64 << 20
}

// serverVersionNumber is the PostgreSQL version Cairn presents.
const serverVersionNumber = "16.0"

// vars holds a session's settings.
type vars struct {
	values map[string]string
}

func newVars() vars {
	v := vars{values: make(map[string]string, len(sessionVars))}
	for name, sv := range sessionVars {
		v.values[name] = sv.def
	}
	return v
}

func unknownVar(name string) error {
	return sqlerr.Newf(sqlerr.CodeUndefinedObject, "unrecognized configuration parameter %q", name)
}

func (v vars) get(name string) (string, error) {
	val, ok := v.values[strings.ToLower(name)]
	if !ok {
		return "", unknownVar(name)
	}
	return val, nil
}

// set validates and stores a setting; value "" with reset restores the default.
func (v vars) set(name, value string) error {
	name = strings.ToLower(name)
	sv, ok := sessionVars[name]
	if !ok {
		return unknownVar(name)
	}
	if sv.readOnly {
		return sqlerr.Newf("55P02", "parameter %q cannot be changed", name)
	}
	norm, err := sv.normalize(value)
	if err != nil {
		return err
	}
	v.values[name] = norm
	return nil
}

func (v vars) reset(name string) error {
	name = strings.ToLower(name)
	sv, ok := sessionVars[name]
	if !ok {
		return unknownVar(name)
	}
	v.values[name] = sv.def
	return nil
}

// all lists every setting, sorted (SHOW ALL).
func (v vars) all() [][2]string {
	out := make([][2]string, 0, len(v.values))
	for name, val := range v.values {
		out = append(out, [2]string{name, val})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// reportedName is a reported setting's name as PostgreSQL spells it.
func reportedName(name string) string {
	switch name {
	case "datestyle":
		return "DateStyle"
	case "intervalstyle":
		return "IntervalStyle"
	case "timezone":
		return "TimeZone"
	}
	return name
}

// applyStartupOptions applies "-c name=value" options of the startup packet.
func (s *session) applyStartupOptions(opts string) error {
	fields := strings.Fields(opts)
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		var kv string
		switch {
		case f == "-c" && i+1 < len(fields):
			i++
			kv = fields[i]
		case strings.HasPrefix(f, "-c"):
			kv = f[2:]
		case strings.HasPrefix(f, "--"):
			kv = f[2:]
		default:
			return sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "invalid startup option %q", f)
		}
		name, val, ok := strings.Cut(kv, "=")
		if !ok {
			return sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "invalid startup option %q", kv)
		}
		if err := s.vars.set(strings.ReplaceAll(name, "-", "_"), val); err != nil {
			return fmt.Errorf("startup option: %w", err)
		}
	}
	return nil
}
