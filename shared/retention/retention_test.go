package retention

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// day is an item named by its date, made at 02:00 UTC that day.
func day(date string) Item {
	return Item{ID: date, Time: at(date + "T02:00:00Z")}
}

func ids(items []Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	return out
}

// dailyRun returns n items, one per day at 02:00 UTC, ending on last,
// oldest first (Apply must sort).
func dailyRun(last string, n int) []Item {
	end := at(last + "T02:00:00Z")
	items := make([]Item, n)
	for k := range n {
		t := end.AddDate(0, 0, -(n - 1 - k))
		items[k] = Item{ID: t.Format(time.DateOnly), Time: t}
	}
	return items
}

func check(t *testing.T, items []Item, p Policy, now time.Time, wantKeep []string) {
	t.Helper()
	keep, remove := Apply(items, p, now)
	if got := ids(keep); !slices.Equal(got, wantKeep) {
		t.Errorf("keep = %v\nwant   %v", got, wantKeep)
	}
	if len(keep)+len(remove) != len(items) {
		t.Errorf("keep %d + remove %d != %d items", len(keep), len(remove), len(items))
	}
	for _, part := range [][]Item{keep, remove} {
		if !slices.IsSortedFunc(part, func(a, b Item) int { return b.Time.Compare(a.Time) }) {
			t.Errorf("not newest first: %v", ids(part))
		}
	}
	seen := map[string]bool{}
	for _, it := range append(slices.Clone(keep), remove...) {
		seen[it.ID] = true
	}
	for _, it := range items {
		if !seen[it.ID] {
			t.Errorf("item %s lost", it.ID)
		}
	}
}

var yearNow = at("2026-01-10T12:00:00Z")

// yearOfDailies: 365 items, 2025-01-11 .. 2026-01-10 (a Saturday, ISO
// 2026-W02), one a day at 02:00 UTC.
func yearOfDailies() []Item { return dailyRun("2026-01-10", 365) }

func TestKarbor(t *testing.T) {
	now := yearNow
	ten := dailyRun("2026-01-10", 10) // 2026-01-01 .. 2026-01-10
	tests := []struct {
		name string
		p    Policy
		want []string
	}{
		{"max_backups=3 keeps newest 3 of 10", Policy{MaxBackups: 3},
			[]string{"2026-01-10", "2026-01-09", "2026-01-08"}},
		// date(now) - date(item) > 7 removes: 2026-01-02 (8) and 2026-01-01 (9).
		{"retention_duration=7", Policy{RetentionDuration: 7},
			[]string{"2026-01-10", "2026-01-09", "2026-01-08", "2026-01-07", "2026-01-06", "2026-01-05", "2026-01-04", "2026-01-03"}},
		{"both, max_backups tighter", Policy{MaxBackups: 3, RetentionDuration: 7},
			[]string{"2026-01-10", "2026-01-09", "2026-01-08"}},
		{"both, retention_duration tighter", Policy{MaxBackups: 9, RetentionDuration: 2},
			[]string{"2026-01-10", "2026-01-09", "2026-01-08"}},
		{"max_backups larger than list", Policy{MaxBackups: 50}, ids(reversed(ten))},
		{"non-positive means unlimited", Policy{MaxBackups: -1, RetentionDuration: 0}, ids(reversed(ten))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { check(t, ten, tt.p, now, tt.want) })
	}
}

func reversed(items []Item) []Item {
	out := slices.Clone(items)
	slices.Reverse(out)
	return out
}

// Karbor's retention_duration works on UTC dates, not on 24h periods.
func TestRetentionDurationDateGranularity(t *testing.T) {
	now := at("2026-01-10T12:00:00Z")
	items := []Item{
		{ID: "jan03-0000", Time: at("2026-01-03T00:00:00Z")},       // 7.5×24h old, date diff 7: kept
		{ID: "jan02-2359", Time: at("2026-01-02T23:59:59Z")},       // date diff 8: removed
		{ID: "jan03-local", Time: at("2026-01-02T20:00:00-05:00")}, // = 2026-01-03T01:00Z: kept
		{ID: "future", Time: at("2026-02-01T00:00:00Z")},           // never removed by duration
	}
	check(t, items, Policy{RetentionDuration: 7}, now, []string{"future", "jan03-local", "jan03-0000"})
}

func TestGFSYearGolden(t *testing.T) {
	items := yearOfDailies()
	tests := []struct {
		name string
		p    Policy
		want []string
	}{
		{
			// daily 7: 01-10 .. 01-04.
			// weekly 4 (ISO): W02 (01-05..01-11) → 01-10; W01 (12-29..01-04) → 01-04;
			//   2025-W52 (12-22..12-28) → 12-28; W51 (12-15..12-21) → 12-21.
			// monthly 12: 2026-01 → 01-10, then the last day of Dec .. Feb 2025.
			// yearly 2: 2026 → 01-10, 2025 → 12-31. No count left at the oldest.
			"daily7 weekly4 monthly12 yearly2",
			Policy{Daily: 7, Weekly: 4, Monthly: 12, Yearly: 2},
			[]string{
				"2026-01-10", "2026-01-09", "2026-01-08", "2026-01-07", "2026-01-06", "2026-01-05", "2026-01-04",
				"2025-12-31", "2025-12-28", "2025-12-21",
				"2025-11-30", "2025-10-31", "2025-09-30", "2025-08-31", "2025-07-31",
				"2025-06-30", "2025-05-31", "2025-04-30", "2025-03-31", "2025-02-28",
			},
		},
		{
			// Only two years have items: the third count keeps the oldest.
			"yearly3 keeps the oldest", Policy{Yearly: 3},
			[]string{"2026-01-10", "2025-12-31", "2025-01-11"},
		},
		{
			// 13 months hold items: exactly used up, the oldest is not kept.
			"monthly13", Policy{Monthly: 13},
			[]string{"2026-01-10", "2025-12-31", "2025-11-30", "2025-10-31", "2025-09-30", "2025-08-31",
				"2025-07-31", "2025-06-30", "2025-05-31", "2025-04-30", "2025-03-31", "2025-02-28", "2025-01-31"},
		},
		{
			"monthly14 keeps the oldest", Policy{Monthly: 14},
			[]string{"2026-01-10", "2025-12-31", "2025-11-30", "2025-10-31", "2025-09-30", "2025-08-31",
				"2025-07-31", "2025-06-30", "2025-05-31", "2025-04-30", "2025-03-31", "2025-02-28", "2025-01-31",
				"2025-01-11"},
		},
		{
			"last3 weekly2", Policy{Last: 3, Weekly: 2},
			[]string{"2026-01-10", "2026-01-09", "2026-01-08", "2026-01-04"},
		},
		{
			// unlimited (restic -1): every bucket, and the oldest.
			"yearly unlimited", Policy{Yearly: -1},
			[]string{"2026-01-10", "2025-12-31", "2025-01-11"},
		},
		{
			// GFS after Karbor: survivors are 2026-01-01..2026-01-10 (retention 9 days);
			// monthly 2 keeps 01-10 and, by the oldest rule, the oldest survivor 01-01.
			"retention_duration then monthly2", Policy{RetentionDuration: 9, Monthly: 2},
			[]string{"2026-01-10", "2026-01-01"},
		},
		{
			// max_backups 20 leaves 12-22..01-10; weekly 3: 01-10, 01-04, 12-28.
			"max_backups then weekly3", Policy{MaxBackups: 20, Weekly: 3},
			[]string{"2026-01-10", "2026-01-04", "2025-12-28"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, items, tt.p, yearNow, tt.want)
			if got := ids(keepByDefinition(items, tt.p, yearNow)); !slices.Equal(got, tt.want) {
				t.Errorf("reference model disagrees with golden list: %v", got)
			}
		})
	}
}

func TestGFSReasons(t *testing.T) {
	ds := Decide(yearOfDailies(), Policy{Daily: 7, Weekly: 4, Monthly: 12, Yearly: 3}, yearNow)
	want := map[string]string{
		"2026-01-10": "daily,weekly,monthly,yearly",
		"2026-01-04": "daily,weekly",
		"2025-12-31": "monthly,yearly",
		"2025-12-28": "weekly",
		"2025-02-28": "monthly",
		"2025-01-11": "oldest yearly",
		"2025-06-15": "kept by no keep_* rule",
	}
	for _, d := range ds {
		w, ok := want[d.Item.ID]
		if !ok {
			continue
		}
		if got := strings.Join(d.Reasons, ","); got != w {
			t.Errorf("%s: reasons %q, want %q", d.Item.ID, got, w)
		}
		if d.Keep == strings.HasPrefix(w, "kept by no") {
			t.Errorf("%s: keep=%v with reasons %q", d.Item.ID, d.Keep, w)
		}
	}
}

func TestGFSSmall(t *testing.T) {
	hourly := []Item{
		{ID: "09:59", Time: at("2026-03-02T09:59:00Z")},
		{ID: "10:05", Time: at("2026-03-02T10:05:00Z")},
		{ID: "10:20", Time: at("2026-03-02T10:20:00Z")},
		{ID: "10:50", Time: at("2026-03-02T10:50:00Z")},
		{ID: "11:10", Time: at("2026-03-02T11:10:00Z")},
		{ID: "11:40", Time: at("2026-03-02T11:40:00Z")},
		{ID: "12:30", Time: at("2026-03-02T12:30:00Z")},
	}
	hourlyOldestShared := append(slices.Clone(hourly), Item{ID: "09:10", Time: at("2026-03-02T09:10:00Z")})
	// 2020-12-27 Sun (2020-W52); 12-31 Thu, 2021-01-01 Fri, 01-03 Sun (all 2020-W53);
	// 2021-01-04 Mon (2021-W01).
	isoYearEnd := []Item{day("2021-01-01"), day("2020-12-27"), day("2021-01-04"), day("2020-12-31"), day("2021-01-03")}
	// 2024-12-29 Sun (2024-W52); 2024-12-30 Mon and 12-31 Tue are in 2025-W01.
	isoNextYear := []Item{day("2024-12-23"), day("2024-12-29"), day("2024-12-30"), day("2024-12-31")}
	// Zones: buckets are UTC. 23:30 at -05:00 on Sunday is Monday 04:30 UTC.
	zoned := []Item{
		{ID: "sun-noon-utc", Time: at("2021-01-03T12:00:00Z")},
		{ID: "sun-2330-est", Time: at("2021-01-03T23:30:00-05:00")},
		{ID: "mon-1000-utc", Time: at("2021-01-04T10:00:00Z")},
		{ID: "mon-0030-cet", Time: at("2021-01-04T00:30:00+01:00")}, // Sunday 23:30 UTC
	}
	same := at("2026-05-05T05:05:05Z")
	ties := []Item{
		{ID: "b", Time: same}, {ID: "c", Time: same}, {ID: "a", Time: same},
		{ID: "z-old", Time: same.Add(-time.Hour)},
		{ID: "a-utc+2", Time: same.In(time.FixedZone("", 7200))}, // same instant, other zone
	}
	tests := []struct {
		name  string
		items []Item
		p     Policy
		want  []string
	}{
		{"keep_last 3", hourly, Policy{Last: 3}, []string{"12:30", "11:40", "11:10"}},
		{"keep_last beyond count keeps all", hourly, Policy{Last: 20}, ids(reversed(hourly))},
		{"keep_hourly 2", hourly, Policy{Hourly: 2}, []string{"12:30", "11:40"}},
		{"keep_hourly 3", hourly, Policy{Hourly: 3}, []string{"12:30", "11:40", "10:50"}},
		{"keep_hourly 10, oldest alone in its hour", hourly, Policy{Hourly: 10}, []string{"12:30", "11:40", "10:50", "09:59"}},
		{"keep_hourly 10, oldest shares its hour", hourlyOldestShared, Policy{Hourly: 10}, []string{"12:30", "11:40", "10:50", "09:59", "09:10"}},
		{"keep_hourly 4, oldest shares, no count left", hourlyOldestShared, Policy{Hourly: 4}, []string{"12:30", "11:40", "10:50", "09:59"}},
		{"keep_last 1 + keep_hourly 2 overlap", hourly, Policy{Last: 1, Hourly: 2}, []string{"12:30", "11:40"}},
		{"keep_daily 1 on one day", hourly, Policy{Daily: 1}, []string{"12:30"}},
		{"ISO week across year end, weekly 2", isoYearEnd, Policy{Weekly: 2}, []string{"2021-01-04", "2021-01-03"}},
		{"ISO week across year end, weekly 3", isoYearEnd, Policy{Weekly: 3}, []string{"2021-01-04", "2021-01-03", "2020-12-27"}},
		{"ISO week across year end, yearly 2 vs weekly", isoYearEnd, Policy{Yearly: 2}, []string{"2021-01-04", "2020-12-31"}},
		{"ISO week 2025-W01 starts 2024-12-30", isoNextYear, Policy{Weekly: 2}, []string{"2024-12-31", "2024-12-29"}},
		// In local time (restic) these would keep sun-2330-est instead of mon-0030-cet.
		{"UTC buckets, weekly 2", zoned, Policy{Weekly: 2}, []string{"mon-1000-utc", "mon-0030-cet"}},
		{"UTC buckets, daily 2", zoned, Policy{Daily: 2}, []string{"mon-1000-utc", "mon-0030-cet"}},
		{"UTC buckets, daily 3 keeps the oldest", zoned, Policy{Daily: 3}, []string{"mon-1000-utc", "mon-0030-cet", "sun-noon-utc"}},
		{"ties: keep_last 1 takes smallest ID", ties, Policy{Last: 1}, []string{"a"}},
		{"ties: keep_last 2", ties, Policy{Last: 2}, []string{"a", "a-utc+2"}},
		{"ties: keep_hourly 1", ties, Policy{Hourly: 1}, []string{"a"}},
		{"ties: max_backups 3", ties, Policy{MaxBackups: 3}, []string{"a", "a-utc+2", "b"}},
		{"empty input", nil, Policy{Daily: 7, MaxBackups: 2}, nil},
		{"no policy removes nothing", hourly, Policy{}, ids(reversed(hourly))},
		{"negative Karbor values only: nothing removed", hourly, Policy{MaxBackups: -3, RetentionDuration: -1}, ids(reversed(hourly))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, tt.items, tt.p, at("2026-06-01T00:00:00Z"), tt.want)
		})
	}
}

func TestApplyDoesNotModifyInput(t *testing.T) {
	items := yearOfDailies()
	orig := slices.Clone(items)
	Apply(items, Policy{Daily: 3, MaxBackups: 100}, yearNow)
	if !slices.Equal(items, orig) {
		t.Fatal("Apply reordered or changed its input")
	}
}

func TestEmpty(t *testing.T) {
	for _, tt := range []struct {
		p    Policy
		want bool
	}{
		{Policy{}, true},
		{Policy{MaxBackups: -1, RetentionDuration: 0}, true},
		{Policy{MaxBackups: 1}, false},
		{Policy{RetentionDuration: 1}, false},
		{Policy{Last: 1}, false},
		{Policy{Yearly: -1}, false},
	} {
		if got := tt.p.Empty(); got != tt.want {
			t.Errorf("%+v.Empty() = %v", tt.p, got)
		}
	}
}

func TestFromDefinition(t *testing.T) {
	tests := []struct {
		name    string
		def     map[string]string
		want    Policy
		wantErr string
	}{
		{"nil", nil, Policy{}, ""},
		{"other keys ignored", map[string]string{"provider_id": "x", "plan_id": "y"}, Policy{}, ""},
		{"all keys", map[string]string{
			"max_backups": "3", "retention_duration": " 14 ", "keep_last": "1", "keep_hourly": "24",
			"keep_daily": "7", "keep_weekly": "4", "keep_monthly": "12", "keep_yearly": "0",
		}, Policy{MaxBackups: 3, RetentionDuration: 14, Last: 1, Hourly: 24, Daily: 7, Weekly: 4, Monthly: 12}, ""},
		{"negative Karbor values are unlimited", map[string]string{"max_backups": "-1", "retention_duration": "-5"},
			Policy{MaxBackups: -1, RetentionDuration: -5}, ""},
		{"max_backups not integer", map[string]string{"max_backups": "many"}, Policy{}, "max_backups"},
		{"retention_duration float", map[string]string{"retention_duration": "1.5"}, Policy{}, "retention_duration"},
		{"empty string", map[string]string{"keep_daily": ""}, Policy{}, "keep_daily"},
		{"negative keep", map[string]string{"keep_weekly": "-1"}, Policy{}, "keep_weekly"},
		{"unlimited word not accepted", map[string]string{"keep_yearly": "unlimited"}, Policy{}, "keep_yearly"},
		{"overflow", map[string]string{"keep_monthly": "99999999999999999999"}, Policy{}, "keep_monthly"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromDefinition(tt.def)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// keepByDefinition is an independent model of the documented rules, written
// from the definitions rather than as a walk: Karbor survivors, then per GFS
// rule "the newest item of each of the N most recent buckets holding items,
// plus the oldest survivor if fewer than N buckets exist".
func keepByDefinition(items []Item, p Policy, now time.Time) []Item {
	sorted := slices.Clone(items)
	slices.SortStableFunc(sorted, func(a, b Item) int {
		return cmp.Or(b.Time.Compare(a.Time), strings.Compare(a.ID, b.ID))
	})
	if p.Empty() {
		return sorted
	}
	nowDate := time.Date(now.UTC().Year(), now.UTC().Month(), now.UTC().Day(), 0, 0, 0, 0, time.UTC)
	var surv []Item
	for i, it := range sorted {
		u := it.Time.UTC()
		d := time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
		ageDays := int(nowDate.Sub(d).Hours() / 24)
		if (p.MaxBackups > 0 && i >= p.MaxBackups) || (p.RetentionDuration > 0 && ageDays > p.RetentionDuration) {
			continue
		}
		surv = append(surv, it)
	}
	if p.Last == 0 && p.Hourly == 0 && p.Daily == 0 && p.Weekly == 0 && p.Monthly == 0 && p.Yearly == 0 {
		return surv
	}
	keys := []struct {
		n   int
		key func(i int, t time.Time) string
	}{
		{p.Last, func(i int, _ time.Time) string { return fmt.Sprint(i) }},
		{p.Hourly, func(_ int, t time.Time) string { return t.Format("2006-01-02T15") }},
		{p.Daily, func(_ int, t time.Time) string { return t.Format(time.DateOnly) }},
		{p.Weekly, func(_ int, t time.Time) string {
			y, w := t.ISOWeek()
			return fmt.Sprintf("%04d-W%02d", y, w)
		}},
		{p.Monthly, func(_ int, t time.Time) string { return t.Format("2006-01") }},
		{p.Yearly, func(_ int, t time.Time) string { return t.Format("2006") }},
	}
	kept := map[int]bool{}
	for _, k := range keys {
		if k.n == 0 {
			continue
		}
		newest := map[string]int{} // bucket → index of its newest survivor
		var order []string         // buckets, most recent first
		for i, it := range surv {
			b := k.key(i, it.Time.UTC())
			if _, ok := newest[b]; !ok {
				newest[b] = i
				order = append(order, b)
			}
		}
		n := k.n
		if n < 0 || n > len(order) {
			n = len(order)
			kept[len(surv)-1] = true // fewer buckets than the count: the oldest too
		}
		for _, b := range order[:n] {
			kept[newest[b]] = true
		}
	}
	var out []Item
	for i, it := range surv {
		if kept[i] {
			out = append(out, it)
		}
	}
	return out
}

// TestAgainstModel compares Apply with keepByDefinition on random,
// deterministic inputs (clumped times over three years, random zones, ties).
func TestAgainstModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	base := at("2024-01-01T00:00:00Z")
	zones := []*time.Location{time.UTC, time.FixedZone("", -5*3600), time.FixedZone("", 9*3600+1800)}
	pick := func() int {
		switch r.IntN(4) {
		case 0:
			return 0
		case 1:
			return -1
		default:
			return r.IntN(15)
		}
	}
	for iter := range 2000 {
		n := r.IntN(60)
		items := make([]Item, n)
		spread := []time.Duration{3 * time.Hour, 72 * time.Hour, 60 * 24 * time.Hour, 3 * 365 * 24 * time.Hour}[r.IntN(4)]
		for i := range items {
			ts := base.Add(time.Duration(r.Int64N(int64(spread)))).Truncate(time.Duration(1+r.IntN(3)) * 20 * time.Minute)
			items[i] = Item{ID: string(rune('a'+r.IntN(26))) + string(rune('a'+i%26)) + string(rune('0'+i/26)), Time: ts.In(zones[r.IntN(len(zones))])}
		}
		p := Policy{Last: pick(), Hourly: pick(), Daily: pick(), Weekly: pick(), Monthly: pick(), Yearly: pick()}
		if r.IntN(3) == 0 {
			p.MaxBackups = r.IntN(40) - 5
		}
		if r.IntN(3) == 0 {
			p.RetentionDuration = r.IntN(400) - 5
		}
		now := base.Add(spread).Add(time.Duration(r.Int64N(int64(30 * 24 * time.Hour))))
		keep, _ := Apply(items, p, now)
		want := keepByDefinition(items, p, now)
		if !slices.Equal(ids(keep), ids(want)) {
			t.Fatalf("iteration %d, policy %+v, now %v:\n got  %v\n want %v", iter, p, now, ids(keep), ids(want))
		}
	}
}
