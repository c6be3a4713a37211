package schedule_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the DST cases need zones even where the system has none

	"github.com/pouchdp/pouch/shared/schedule"
)

// props builds time trigger properties: format, pattern, start_time, then
// more key/value pairs.
func props(format, pattern, start string, kv ...string) map[string]string {
	p := map[string]string{"format": format, "pattern": pattern, "start_time": start}
	for i := 0; i+1 < len(kv); i += 2 {
		p[kv[i]] = kv[i+1]
	}
	return p
}

func utc(s string) time.Time {
	t, err := time.Parse(schedule.TimeLayout, s)
	if err != nil {
		panic(err)
	}
	return t
}

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// karborWeekly is the pattern as python-karborclient sends it: literal \n.
const karborWeekly = `BEGIN:VEVENT\nRRULE:FREQ=WEEKLY;INTERVAL=1;\nEND:VEVENT`

func vevent(rrule string) string { return "BEGIN:VEVENT\nRRULE:" + rrule + "\nEND:VEVENT" }

func TestNext(t *testing.T) {
	t.Parallel()
	newYork, berlin := zone(t, "America/New_York"), zone(t, "Europe/Berlin")
	for _, tc := range []struct {
		name  string
		props map[string]string
		cfg   schedule.Config
		after time.Time // the first reference time
		want  []string  // successive Next results, each after the previous
		more  bool      // whether Next still fires after the last of want
	}{
		{name: "cron hourly from a start between occurrences",
			props: props("crontab", "0 * * * *", "2024-01-01 00:30:00"),
			after: utc("2023-06-01 00:00:00"),
			want:  []string{"2024-01-01 01:00:00", "2024-01-01 02:00:00", "2024-01-01 03:00:00"}, more: true},
		{name: "cron start_time itself fires when it matches",
			props: props("crontab", "0 0 * * *", "2024-01-01 00:00:00"),
			after: utc("2023-12-31 23:00:00"),
			want:  []string{"2024-01-01 00:00:00", "2024-01-02 00:00:00"}, more: true},
		{name: "cron strictly after a reference time that is an occurrence",
			props: props("crontab", "0 0 * * *", "2024-01-01 00:00:00"),
			after: utc("2024-03-05 00:00:00"),
			want:  []string{"2024-03-06 00:00:00"}, more: true},
		{name: "cron reference time with a fraction of a second",
			props: props("crontab", "0 0 * * *", "2024-01-01 00:00:00"),
			after: utc("2024-03-05 23:59:59").Add(999 * time.Millisecond),
			want:  []string{"2024-03-06 00:00:00"}, more: true},
		{name: "cron 31st: months without one are skipped",
			props: props("crontab", "0 0 31 * *", "2024-01-01 00:00:00"),
			after: utc("2024-01-01 00:00:00"),
			want: []string{"2024-01-31 00:00:00", "2024-03-31 00:00:00", "2024-05-31 00:00:00", "2024-07-31 00:00:00",
				"2024-08-31 00:00:00", "2024-10-31 00:00:00", "2024-12-31 00:00:00", "2025-01-31 00:00:00"}, more: true},
		{name: "cron 29 February: leap years only",
			props: props("crontab", "0 12 29 2 *", "2024-03-01 00:00:00"),
			after: utc("2024-03-01 00:00:00"),
			want:  []string{"2028-02-29 12:00:00", "2032-02-29 12:00:00"}, more: true},
		{name: "cron day-of-month or day-of-week, as Vixie cron",
			props: props("crontab", "0 6 1 * MON", "2024-04-26 00:00:00"),
			after: utc("2024-04-26 00:00:00"),
			want:  []string{"2024-04-29 06:00:00", "2024-05-01 06:00:00", "2024-05-06 06:00:00"}, more: true},
		{name: "cron descriptor",
			props: props("crontab", "@daily", "2024-01-01 10:00:00"),
			after: utc("2024-01-01 10:00:00"),
			want:  []string{"2024-01-02 00:00:00", "2024-01-03 00:00:00"}, more: true},
		{name: "cron UTC across the US spring DST change, reference time in New York",
			props: props("crontab", "0 2 * * *", "2024-03-09 00:00:00"),
			after: utc("2024-03-08 12:00:00").In(newYork),
			want:  []string{"2024-03-09 02:00:00", "2024-03-10 02:00:00", "2024-03-11 02:00:00"}, more: true},
		{name: "cron UTC across the European spring DST change, reference time in Berlin",
			props: props("crontab", "30 1 * * *", "2024-03-30 00:00:00"),
			after: utc("2024-03-29 12:00:00").In(berlin),
			want:  []string{"2024-03-30 01:30:00", "2024-03-31 01:30:00", "2024-04-01 01:30:00"}, more: true},
		{name: "cron UTC across the European autumn DST change, reference time in Berlin",
			props: props("crontab", "30 0 * * *", "2024-10-26 00:00:00"),
			after: utc("2024-10-25 12:00:00").In(berlin),
			want:  []string{"2024-10-26 00:30:00", "2024-10-27 00:30:00", "2024-10-28 00:30:00"}, more: true},
		{name: "cron end_time is inclusive",
			props: props("crontab", "0 * * * *", "2024-01-01 00:00:00", "end_time", "2024-01-01 03:00:00"),
			after: utc("2024-01-01 00:00:00"),
			want:  []string{"2024-01-01 01:00:00", "2024-01-01 02:00:00", "2024-01-01 03:00:00"}},
		{name: "cron reference time after end_time",
			props: props("crontab", "0 * * * *", "2024-01-01 00:00:00", "end_time", "2024-01-02 00:00:00"),
			after: utc("2024-02-01 00:00:00")},
		{name: "calendar as the Karbor client sends it (literal \\n, trailing ;)",
			props: props("calendar", karborWeekly, "2017-06-01 10:00:00"),
			after: utc("2017-05-01 00:00:00"),
			want:  []string{"2017-06-01 10:00:00", "2017-06-08 10:00:00", "2017-06-15 10:00:00"}, more: true},
		{name: "calendar strictly after an occurrence",
			props: props("calendar", karborWeekly, "2017-06-01 10:00:00"),
			after: utc("2017-06-08 10:00:00"),
			want:  []string{"2017-06-15 10:00:00"}, more: true},
		{name: "calendar last day of the month",
			props: props("calendar", vevent("FREQ=MONTHLY;BYMONTHDAY=-1"), "2024-01-15 10:00:00"),
			after: utc("2024-01-15 10:00:00"),
			want:  []string{"2024-01-31 10:00:00", "2024-02-29 10:00:00", "2024-03-31 10:00:00", "2024-04-30 10:00:00"}, more: true},
		{name: "calendar last day of February in a common year",
			props: props("calendar", vevent("FREQ=MONTHLY;BYMONTHDAY=-1"), "2025-01-15 10:00:00"),
			after: utc("2025-02-01 00:00:00"),
			want:  []string{"2025-02-28 10:00:00", "2025-03-31 10:00:00"}, more: true},
		{name: "calendar monthly from the 31st skips shorter months (RFC 5545)",
			props: props("calendar", vevent("FREQ=MONTHLY"), "2024-01-31 08:00:00"),
			after: utc("2024-01-01 00:00:00"),
			want:  []string{"2024-01-31 08:00:00", "2024-03-31 08:00:00", "2024-05-31 08:00:00"}, more: true},
		{name: "calendar UTC across the European spring DST change, reference time in Berlin",
			// 02:30 does not exist in Berlin on 31 March 2024; in UTC it does.
			props: props("calendar", vevent("FREQ=DAILY"), "2024-03-30 02:30:00"),
			after: utc("2024-03-30 00:00:00").In(berlin),
			want:  []string{"2024-03-30 02:30:00", "2024-03-31 02:30:00", "2024-04-01 02:30:00"}, more: true},
		{name: "calendar UTC across the US autumn DST change, reference time in New York",
			props: props("calendar", vevent("FREQ=DAILY;BYHOUR=6;BYMINUTE=0;BYSECOND=0"), "2024-11-02 00:00:00"),
			after: utc("2024-11-01 00:00:00").In(newYork),
			want:  []string{"2024-11-02 06:00:00", "2024-11-03 06:00:00", "2024-11-04 06:00:00"}, more: true},
		{name: "calendar DTSTART with TZID is ignored: start_time rules",
			props: props("calendar", "BEGIN:VEVENT\nDTSTART;TZID=Europe/Berlin:20240101T090000\nRRULE:FREQ=DAILY\nEND:VEVENT",
				"2024-06-01 12:00:00"),
			after: utc("2024-01-01 00:00:00"),
			want:  []string{"2024-06-01 12:00:00", "2024-06-02 12:00:00"}, more: true},
		{name: "calendar in a VCALENDAR, CRLF, folded, lower case, other properties and components",
			props: props("calendar", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:backup\r\nrrule:freq=daily;\r\n interval=2\r\n"+
				"BEGIN:VALARM\r\nACTION:DISPLAY\r\nEND:VALARM\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nRRULE:FREQ=HOURLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
				"2024-01-01 00:00:00"),
			after: utc("2024-01-01 00:00:00"),
			want:  []string{"2024-01-03 00:00:00", "2024-01-05 00:00:00"}, more: true},
		{name: "calendar escapes that are not JSON (\\,) still decode \\n",
			props: props("calendar", `BEGIN:VEVENT\nSUMMARY:a\, b\nRRULE:FREQ=DAILY\nEND:VEVENT`, "2024-01-01 00:00:00"),
			after: utc("2024-01-01 00:00:00"),
			want:  []string{"2024-01-02 00:00:00"}, more: true},
		{name: "calendar COUNT ends the occurrences",
			props: props("calendar", vevent("FREQ=DAILY;COUNT=2"), "2024-01-01 00:00:00"),
			after: utc("2023-01-01 00:00:00"),
			want:  []string{"2024-01-01 00:00:00", "2024-01-02 00:00:00"}},
		{name: "calendar UNTIL ends the occurrences",
			props: props("calendar", vevent("FREQ=DAILY;UNTIL=20240103T000000Z"), "2024-01-01 00:00:00"),
			after: utc("2024-01-01 00:00:00"),
			want:  []string{"2024-01-02 00:00:00", "2024-01-03 00:00:00"}},
		{name: "calendar end_time is inclusive",
			props: props("calendar", vevent("FREQ=DAILY"), "2024-01-01 00:00:00", "end_time", "2024-01-03 00:00:00"),
			after: utc("2024-01-01 00:00:00"),
			want:  []string{"2024-01-02 00:00:00", "2024-01-03 00:00:00"}},
		{name: "calendar every two minutes with devstack's configuration",
			props: props("calendar", vevent("FREQ=MINUTELY;INTERVAL=2"), "2024-01-01 00:00:00", "window", "30"),
			cfg:   schedule.Config{MinInterval: 60 * time.Second, MinWindow: 20 * time.Second, MaxWindow: 30 * time.Second},
			after: utc("2024-01-01 00:00:00"),
			want:  []string{"2024-01-01 00:02:00", "2024-01-01 00:04:00"}, more: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := schedule.Parse(tc.props, tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			after := tc.after
			for i, w := range tc.want {
				got, ok := s.Next(after)
				if !ok {
					t.Fatalf("Next(%v) #%d: none, want %s", after, i, w)
				}
				if got.Location() != time.UTC || !got.Equal(utc(w)) {
					t.Fatalf("Next(%v) #%d: %v, want %s UTC", after, i, got, w)
				}
				after = got
			}
			if got, ok := s.Next(after); ok != tc.more {
				t.Errorf("Next(%v) after the last: %v, %v; want more=%v", after, got, ok, tc.more)
			}
		})
	}
}

func TestParseFields(t *testing.T) {
	t.Parallel()
	s, err := schedule.Parse(props("calendar", karborWeekly, "2017-6-1 9:05:00", "end_time", "2018-01-01 00:00:00"), schedule.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Format != "calendar" || s.Pattern != "BEGIN:VEVENT\nRRULE:FREQ=WEEKLY;INTERVAL=1;\nEND:VEVENT" ||
		!s.Start.Equal(utc("2017-06-01 09:05:00")) || !s.End.Equal(utc("2018-01-01 00:00:00")) || s.Window != 900*time.Second {
		t.Errorf("parsed %+v", s)
	}
	for _, tc := range []struct {
		window string
		cfg    schedule.Config
		want   time.Duration
	}{
		{"900", schedule.Config{}, 900 * time.Second},
		{" 1800 ", schedule.Config{}, 1800 * time.Second},
		{"+1000", schedule.Config{}, 1000 * time.Second},
		{"", schedule.Config{MinInterval: time.Hour, MinWindow: time.Minute, MaxWindow: 2 * time.Minute}, time.Minute},
	} {
		p := props("crontab", "0 * * * *", "2024-01-01 00:00:00")
		if tc.window != "" {
			p["window"] = tc.window
		}
		s, err := schedule.Parse(p, tc.cfg)
		if err != nil || s.Window != tc.want {
			t.Errorf("window %q: %v, %v; want %v", tc.window, s, err, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	const start = "2024-01-01 00:00:00"
	cron := func(pattern string, kv ...string) map[string]string { return props("crontab", pattern, start, kv...) }
	cal := func(pattern string, kv ...string) map[string]string { return props("calendar", pattern, start, kv...) }
	without := func(p map[string]string, key string) map[string]string { delete(p, key); return p }
	devstack := schedule.Config{MinInterval: 60 * time.Second, MinWindow: 20 * time.Second, MaxWindow: 30 * time.Second}
	twoMinutes := devstack
	twoMinutes.MinInterval = 2 * time.Minute
	for _, tc := range []struct {
		name  string
		props map[string]string
		cfg   schedule.Config
		prop  string // the property named
		want  string // in the message
	}{
		{"unknown property", cron("0 * * * *", "colour", "red"), schedule.Config{}, "colour", "unknown"},
		{"no format", without(cron("0 * * * *"), "format"), schedule.Config{}, "format", "required"},
		{"unknown format", props("ical", "0 * * * *", start), schedule.Config{}, "format", `"ical"`},
		{"no pattern", without(cron("0 * * * *"), "pattern"), schedule.Config{}, "pattern", "required"},
		{"blank pattern", cron("  "), schedule.Config{}, "pattern", "required"},
		{"unparsable cron", cron("every hour"), schedule.Config{}, "pattern", "crontab"},
		{"cron with seconds", cron("0 0 * * * *"), schedule.Config{}, "pattern", "crontab"},
		{"cron out of range", cron("0 25 * * *"), schedule.Config{}, "pattern", "crontab"},
		{"cron with a time zone", cron("CRON_TZ=Europe/Berlin 0 2 * * *"), schedule.Config{}, "pattern", "time zone"},
		{"cron with TZ=", cron("TZ=UTC 0 2 * * *"), schedule.Config{}, "pattern", "time zone"},
		{"cron @every", cron("@every 2h"), schedule.Config{}, "pattern", "@every"},
		{"cron that never fires", cron("0 0 30 2 *"), schedule.Config{}, "pattern", "never fires"},
		{"cron too frequent", cron("*/5 * * * *"), schedule.Config{}, "pattern", "minimum interval of 3600 s"},
		{"cron with one short gap a day", cron("0,45 23 * * *"), schedule.Config{}, "pattern", "2024-01-01 23:00:00 and 2024-01-01 23:45:00"},
		{"cron too frequent for two minutes", cron("* * * * *"), twoMinutes, "pattern", "minimum interval of 120 s"},
		{"calendar bare RRULE", cal("RRULE:FREQ=DAILY"), schedule.Config{}, "pattern", "outside"},
		{"calendar bare rule", cal("FREQ=DAILY"), schedule.Config{}, "pattern", "NAME:VALUE"},
		{"calendar crontab", cal("0 * * * *"), schedule.Config{}, "pattern", "NAME:VALUE"},
		{"calendar without VEVENT", cal("BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR"), schedule.Config{}, "pattern", "no VEVENT"},
		{"calendar without RRULE", cal(`BEGIN:VEVENT\nSUMMARY:x\nEND:VEVENT`), schedule.Config{}, "pattern", "no RRULE"},
		{"calendar RRULE only in the second VEVENT", cal("BEGIN:VEVENT\nEND:VEVENT\n" + vevent("FREQ=DAILY")), schedule.Config{}, "pattern", "no RRULE"},
		{"calendar two RRULEs", cal("BEGIN:VEVENT\nRRULE:FREQ=DAILY\nRRULE:FREQ=WEEKLY\nEND:VEVENT"), schedule.Config{}, "pattern", "more than one"},
		{"calendar without END", cal("BEGIN:VEVENT\nRRULE:FREQ=DAILY"), schedule.Config{}, "pattern", "no END"},
		{"calendar mismatched END", cal("BEGIN:VEVENT\nRRULE:FREQ=DAILY\nEND:VCALENDAR"), schedule.Config{}, "pattern", "END:VCALENDAR"},
		{"calendar unknown frequency", cal(vevent("FREQ=SOMETIMES")), schedule.Config{}, "pattern", "RRULE"},
		{"calendar without FREQ", cal(vevent("INTERVAL=2")), schedule.Config{}, "pattern", "RRULE"},
		{"calendar out of range", cal(vevent("FREQ=MONTHLY;BYMONTHDAY=32")), schedule.Config{}, "pattern", "RRULE"},
		{"calendar unknown rule part", cal(vevent("FREQ=DAILY;COLOUR=RED")), schedule.Config{}, "pattern", "RRULE"},
		{"calendar that never fires", cal(vevent("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30")), schedule.Config{}, "pattern", "never fires"},
		{"calendar UNTIL before start_time", cal(vevent("FREQ=DAILY;UNTIL=20230101T000000Z")), schedule.Config{}, "pattern", "never fires"},
		{"calendar too frequent", cal(vevent("FREQ=MINUTELY")), schedule.Config{}, "pattern", "minimum interval"},
		{"calendar too frequent within a day", cal(vevent("FREQ=DAILY;BYHOUR=1;BYMINUTE=0,30")), schedule.Config{}, "pattern", "30m0s apart"},
		{"calendar too frequent for two minutes", cal(vevent("FREQ=MINUTELY;INTERVAL=1")), twoMinutes, "pattern", "minimum interval of 120 s"},
		{"no start_time", without(cron("0 * * * *"), "start_time"), schedule.Config{}, "start_time", "required"},
		{"empty start_time", cron("0 * * * *", "start_time", ""), schedule.Config{}, "start_time", "required"},
		{"ISO start_time", cron("0 * * * *", "start_time", "2024-01-01T00:00:00"), schedule.Config{}, "start_time", "YYYY-MM-DD HH:MM:SS"},
		{"start_time with a zone", cron("0 * * * *", "start_time", "2024-01-01 00:00:00Z"), schedule.Config{}, "start_time", "format"},
		{"date-only start_time", cron("0 * * * *", "start_time", "2024-01-01"), schedule.Config{}, "start_time", "format"},
		{"impossible start_time", cron("0 * * * *", "start_time", "2024-02-30 00:00:00"), schedule.Config{}, "start_time", "format"},
		{"bad end_time", cron("0 * * * *", "end_time", "tomorrow"), schedule.Config{}, "end_time", "format"},
		{"end_time before start_time", cron("0 * * * *", "end_time", "2023-12-31 00:00:00"), schedule.Config{}, "end_time", "not after"},
		{"end_time at start_time", cron("0 * * * *", "end_time", start), schedule.Config{}, "end_time", "not after"},
		{"window not a number", cron("0 * * * *", "window", "soon"), schedule.Config{}, "window", "integer"},
		{"empty window", cron("0 * * * *", "window", ""), schedule.Config{}, "window", "integer"},
		{"fractional window", cron("0 * * * *", "window", "900.5"), schedule.Config{}, "window", "integer"},
		{"negative window", cron("0 * * * *", "window", "-5"), schedule.Config{}, "window", "between 900 s and 1800 s"},
		{"window too short", cron("0 * * * *", "window", "899"), schedule.Config{}, "window", "between"},
		{"window too long", cron("0 * * * *", "window", "1801"), schedule.Config{}, "window", "between"},
		{"window too long for devstack", cron("0 * * * *", "window", "31"), devstack, "window", "between 20 s and 30 s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := schedule.Parse(tc.props, tc.cfg)
			var pe *schedule.PropertyError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse: %v, %v; want a *PropertyError", s, err)
			}
			if !errors.Is(err, schedule.ErrInvalid) {
				t.Errorf("%v does not match ErrInvalid", err)
			}
			if pe.Property != tc.prop || !strings.Contains(err.Error(), tc.want) ||
				!strings.HasPrefix(err.Error(), "trigger property "+tc.prop+": ") {
				t.Errorf("error %q (property %q), want property %q and %q", err, pe.Property, tc.prop, tc.want)
			}
		})
	}
}

func TestFromJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body string
		want map[string]string
		prop string // the property named by the error, if one is wanted
	}{
		{body: `{"format": "calendar", "pattern": "p", "start_time": "2024-01-01 00:00:00", "end_time": "", "window": 30}`,
			want: map[string]string{"format": "calendar", "pattern": "p", "start_time": "2024-01-01 00:00:00", "end_time": "", "window": "30"}},
		{body: `{"window": "30"}`, want: map[string]string{"window": "30"}},
		{body: `{"window": -5}`, want: map[string]string{"window": "-5"}},
		{body: `{}`, want: map[string]string{}},
		{body: `{"window": 30.5}`, prop: "window"},
		{body: `{"window": 1e3}`, prop: "window"},
		{body: `{"window": true}`, prop: "window"},
		{body: `{"window": null}`, prop: "window"},
		{body: `{"pattern": 5}`, prop: "pattern"},
		{body: `{"start_time": null}`, prop: "start_time"},
		{body: `{"format": ["calendar"]}`, prop: "format"},
		{body: `{"pattern": "p", "colour": "red"}`, prop: "colour"},
	} {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal([]byte(tc.body), &raw); err != nil {
			t.Fatal(err)
		}
		got, err := schedule.FromJSON(raw)
		var pe *schedule.PropertyError
		switch {
		case tc.prop == "" && (err != nil || len(got) != len(tc.want)):
			t.Errorf("%s: %v, %v; want %v", tc.body, got, err, tc.want)
		case tc.prop == "":
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s: %s = %q, want %q", tc.body, k, got[k], v)
				}
			}
		case !errors.As(err, &pe) || pe.Property != tc.prop:
			t.Errorf("%s: %v, %v; want an error naming %s", tc.body, got, err, tc.prop)
		}
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	if got := (schedule.Config{}).WithDefaults(); got != schedule.DefaultConfig() ||
		got.MinInterval != time.Hour || got.MinWindow != 15*time.Minute || got.MaxWindow != 30*time.Minute {
		t.Errorf("defaults %+v", got)
	}
	if got := (schedule.Config{MinWindow: 20 * time.Second}).WithDefaults(); got.MinWindow != 20*time.Second || got.MaxWindow != 30*time.Minute {
		t.Errorf("partial defaults %+v", got)
	}
	for _, tc := range []struct {
		cfg schedule.Config
		ok  bool
	}{
		{schedule.Config{}, true},
		{schedule.Config{MinInterval: 60 * time.Second, MinWindow: 20 * time.Second, MaxWindow: 30 * time.Second}, true},
		{schedule.Config{MinWindow: 30 * time.Minute}, false},
		{schedule.Config{MinWindow: 40 * time.Minute}, false},
		{schedule.Config{MinInterval: 59 * time.Minute}, false},
		{schedule.Config{MinInterval: -time.Hour}, false},
		{schedule.Config{MinWindow: time.Millisecond}, false},
	} {
		if err := tc.cfg.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: Validate %v, want ok=%v", tc.cfg, err, tc.ok)
		}
	}
}
