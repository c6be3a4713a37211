package retention

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Item is one backup subject to retention.
type Item struct {
	ID   string
	Time time.Time
}

// Policy is a retention policy. The zero Policy keeps everything.
type Policy struct {
	// MaxBackups keeps the newest N items (Karbor max_backups; <= 0: unlimited).
	MaxBackups int
	// RetentionDuration removes items whose UTC date is more than N days
	// before now's (Karbor retention_duration, days; <= 0: unlimited).
	RetentionDuration int
	// GFS counts with restic forget semantics: 0 leaves the rule unused,
	// N > 0 keeps the newest item of each of the N most recent buckets,
	// N < 0 keeps the newest item of every bucket.
	Last, Hourly, Daily, Weekly, Monthly, Yearly int
}

// Definition keys read by FromDefinition.
const (
	KeyMaxBackups        = "max_backups"
	KeyRetentionDuration = "retention_duration"
	KeyLast              = "keep_last"
	KeyHourly            = "keep_hourly"
	KeyDaily             = "keep_daily"
	KeyWeekly            = "keep_weekly"
	KeyMonthly           = "keep_monthly"
	KeyYearly            = "keep_yearly"
)

// Empty reports whether p removes nothing: no Karbor limit and no GFS rule.
func (p Policy) Empty() bool {
	return p.MaxBackups <= 0 && p.RetentionDuration <= 0 && !p.hasGFS()
}

func (p Policy) hasGFS() bool {
	return p.Last != 0 || p.Hourly != 0 || p.Daily != 0 || p.Weekly != 0 || p.Monthly != 0 || p.Yearly != 0
}

// FromDefinition reads the retention keys of a scheduled operation's
// operation_definition. All keys are optional; other keys are ignored.
// Values are base-10 integers (surrounding spaces allowed). max_backups and
// retention_duration accept any integer (<= 0: unlimited); keep_* must be
// non-negative. An invalid value yields an error naming the key.
func FromDefinition(def map[string]string) (Policy, error) {
	var p Policy
	for _, f := range []struct {
		key      string
		dst      *int
		nonNeg   bool
		describe string
	}{
		{KeyMaxBackups, &p.MaxBackups, false, "an integer"},
		{KeyRetentionDuration, &p.RetentionDuration, false, "an integer (days)"},
		{KeyLast, &p.Last, true, "a non-negative integer"},
		{KeyHourly, &p.Hourly, true, "a non-negative integer"},
		{KeyDaily, &p.Daily, true, "a non-negative integer"},
		{KeyWeekly, &p.Weekly, true, "a non-negative integer"},
		{KeyMonthly, &p.Monthly, true, "a non-negative integer"},
		{KeyYearly, &p.Yearly, true, "a non-negative integer"},
	} {
		v, ok := def[f.key]
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 0)
		if err != nil || (f.nonNeg && n < 0) {
			return Policy{}, fmt.Errorf("retention: operation_definition.%s %q: %s is expected", f.key, v, f.describe)
		}
		*f.dst = int(n)
	}
	return p, nil
}

// Reasons attached to decisions. A GFS rule that keeps the oldest item only
// by restic's "oldest" rule is reported as "oldest " + its reason.
const (
	ReasonNoPolicy   = "policy is empty"
	ReasonKarborOnly = "within Karbor limits"
	ReasonMaxBackups = "beyond max_backups"
	ReasonDuration   = "older than retention_duration"
	ReasonNoRule     = "kept by no keep_* rule"
	ReasonLast       = "last"
	ReasonHourly     = "hourly"
	ReasonDaily      = "daily"
	ReasonWeekly     = "weekly"
	ReasonMonthly    = "monthly"
	ReasonYearly     = "yearly"
)

const reasonOldestPrefix = "oldest "

// Decision is the verdict on one item. Reasons say why it is kept (the GFS
// rules that keep it, e.g. "daily", "oldest yearly"; or "within Karbor
// limits" / "policy is empty" when no GFS rule is set) or why it is removed.
type Decision struct {
	Item    Item
	Keep    bool
	Reasons []string
}

// Decide returns one decision per item, newest first (ties by ID
// ascending). items is not modified.
func Decide(items []Item, p Policy, now time.Time) []Decision {
	ds := make([]Decision, len(items))
	for i, it := range items {
		ds[i] = Decision{Item: it}
	}
	slices.SortStableFunc(ds, func(a, b Decision) int {
		if c := b.Item.Time.Compare(a.Item.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Item.ID, b.Item.ID)
	})

	if p.Empty() {
		for i := range ds {
			ds[i].Keep = true
			ds[i].Reasons = []string{ReasonNoPolicy}
		}
		return ds
	}

	// Stage 1: Karbor.
	today := dayNumber(now)
	var survivors []int
	for i := range ds {
		var why []string
		if p.MaxBackups > 0 && i >= p.MaxBackups {
			why = append(why, ReasonMaxBackups)
		}
		if p.RetentionDuration > 0 && today-dayNumber(ds[i].Item.Time) > int64(p.RetentionDuration) {
			why = append(why, ReasonDuration)
		}
		if why != nil {
			ds[i].Reasons = why
			continue
		}
		survivors = append(survivors, i)
	}

	if !p.hasGFS() {
		for _, i := range survivors {
			ds[i].Keep = true
			ds[i].Reasons = []string{ReasonKarborOnly}
		}
		return ds
	}

	// Stage 2: GFS over the survivors, newest first.
	rules := []struct {
		count  int
		bucket func(t time.Time, nr int) int
		reason string
		last   int
		used   bool // a bucket has been kept (last is valid)
	}{
		{count: p.Last, bucket: func(_ time.Time, nr int) int { return nr }, reason: ReasonLast},
		{count: p.Hourly, bucket: func(t time.Time, _ int) int { return dayKey(t)*100 + t.Hour() }, reason: ReasonHourly},
		{count: p.Daily, bucket: func(t time.Time, _ int) int { return dayKey(t) }, reason: ReasonDaily},
		{count: p.Weekly, bucket: func(t time.Time, _ int) int { y, w := t.ISOWeek(); return y*100 + w }, reason: ReasonWeekly},
		{count: p.Monthly, bucket: func(t time.Time, _ int) int { return t.Year()*100 + int(t.Month()) }, reason: ReasonMonthly},
		{count: p.Yearly, bucket: func(t time.Time, _ int) int { return t.Year() }, reason: ReasonYearly},
	}
	for nr, i := range survivors {
		t := ds[i].Item.Time.UTC()
		oldest := nr == len(survivors)-1
		var why []string
		for r := range rules {
			rule := &rules[r]
			if rule.count == 0 {
				continue // unused, or count used up
			}
			b := rule.bucket(t, nr)
			same := rule.used && b == rule.last
			if same && !oldest {
				continue
			}
			if same {
				why = append(why, reasonOldestPrefix+rule.reason)
			} else {
				why = append(why, rule.reason)
			}
			rule.last, rule.used = b, true
			if rule.count > 0 {
				rule.count--
			}
		}
		if why != nil {
			ds[i].Keep = true
			ds[i].Reasons = why
		} else {
			ds[i].Reasons = []string{ReasonNoRule}
		}
	}
	return ds
}

// Apply splits items (any order) into kept and removed ones, each newest
// first (ties by ID ascending). items is not modified.
func Apply(items []Item, p Policy, now time.Time) (keep, remove []Item) {
	for _, d := range Decide(items, p, now) {
		if d.Keep {
			keep = append(keep, d.Item)
		} else {
			remove = append(remove, d.Item)
		}
	}
	return keep, remove
}

// dayKey returns the UTC date of t as YYYYMMDD.
func dayKey(t time.Time) int {
	t = t.UTC()
	return t.Year()*10000 + int(t.Month())*100 + t.Day()
}

// dayNumber returns the number of whole UTC days from the Unix epoch to t's
// UTC date (floor, also before 1970).
func dayNumber(t time.Time) int64 {
	s := t.Unix()
	d := s / 86400
	if s%86400 < 0 {
		d--
	}
	return d
}
