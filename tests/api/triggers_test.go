package api_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// Trigger patterns as python-karborclient sends them (literal \n).
const (
	hourly = `BEGIN:VEVENT\nRRULE:FREQ=HOURLY;INTERVAL=1;\nEND:VEVENT`
	daily  = `BEGIN:VEVENT\nRRULE:FREQ=DAILY;INTERVAL=1;\nEND:VEVENT`
	weekly = `BEGIN:VEVENT\nRRULE:FREQ=WEEKLY;INTERVAL=1;\nEND:VEVENT`
)

// triggerBody is a trigger create body of a time trigger.
func triggerBody(name string, props obj) obj {
	return obj{"trigger_info": obj{"name": name, "type": "time", "properties": props}}
}

// calendar is the properties of a calendar trigger on pattern, then more
// key/value pairs.
func calendar(pattern string, kv ...any) obj {
	p := obj{"format": "calendar", "pattern": pattern}
	for i := 0; i+1 < len(kv); i += 2 {
		p[kv[i].(string)] = kv[i+1]
	}
	return p
}

// trigger creates a trigger as tok and returns its id.
func (e *env) trigger(t *testing.T, tok, name string, props obj) string {
	t.Helper()
	return e.doAs(t, tok, "POST", "triggers", triggerBody(name, props)).OK(t).Str(t, "trigger_info", "id")
}

func TestTriggerLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	// Create: the window arrives as a JSON integer and comes back a string;
	// start_time defaults to now, UTC, to the second.
	before := time.Now().UTC().Truncate(time.Second)
	r := e.do(t, "POST", "triggers", triggerBody("weekly", calendar(weekly, "window", 1000))).OK(t)
	after := time.Now().UTC()
	id := r.Str(t, "trigger_info", "id")
	start := r.Str(t, "trigger_info", "properties", "start_time")
	if st, err := time.Parse("2006-01-02 15:04:05", start); err != nil || st.Before(before) || st.After(after) {
		t.Errorf("default start_time %q, want now (%v) as YYYY-MM-DD HH:MM:SS", start, before)
	}
	want := map[string]any{"id": id, "name": "weekly", "type": "time", "properties": map[string]any{
		"format": "calendar", "pattern": weekly, "window": "1000", "start_time": start}}
	if !equalJSON(r.Get(t, "trigger_info"), want) {
		t.Errorf("created %s, want %v", r.Raw, want)
	}
	if r := e.do(t, "GET", "triggers/"+id, nil).OK(t); !equalJSON(r.Get(t, "trigger_info"), want) {
		t.Errorf("GET %s, want %v", r.Raw, want)
	}
	// The undashed form of the id works too.
	e.do(t, "GET", "triggers/"+strings.ReplaceAll(id, "-", ""), nil).OK(t)

	// A crontab trigger with every property; window as a string too.
	cron := e.do(t, "POST", "triggers", triggerBody("cron", obj{"format": "crontab", "pattern": "0 2 * * *",
		"start_time": "2030-01-01 00:00:00", "end_time": "2031-01-01 00:00:00", "window": "900"})).OK(t)
	if !equalJSON(cron.Get(t, "trigger_info", "properties"), obj{"format": "crontab", "pattern": "0 2 * * *",
		"start_time": "2030-01-01 00:00:00", "end_time": "2031-01-01 00:00:00", "window": "900"}) {
		t.Errorf("crontab trigger %s", cron.Raw)
	}
	cronID := cron.Str(t, "trigger_info", "id")

	// T1: both listed, newest first.
	if got := e.do(t, "GET", "triggers", nil).OK(t).IDs(t, "triggers"); !slices.Equal(got, []string{cronID, id}) {
		t.Errorf("triggers %v, want [%s %s]", got, cronID, id)
	}

	// Name-only update keeps the properties.
	r = e.do(t, "PUT", "triggers/"+id, obj{"trigger_info": obj{"name": "renamed"}}).OK(t)
	want["name"] = "renamed"
	if !equalJSON(r.Get(t, "trigger_info"), want) {
		t.Errorf("renamed %s, want %v", r.Raw, want)
	}
	// An empty update changes nothing; type is ignored.
	r = e.do(t, "PUT", "triggers/"+id, obj{"trigger_info": obj{"type": "event", "properties": obj{}}}).OK(t)
	if !equalJSON(r.Get(t, "trigger_info"), want) {
		t.Errorf("empty update %s, want %v", r.Raw, want)
	}

	// T3: new properties replace the old ones entirely (window gone).
	now := time.Now().UTC().Format("2006-01-02 15:04:05")
	r = e.do(t, "PUT", "triggers/"+id, obj{"trigger_info": obj{"properties": calendar(daily, "start_time", now)}}).OK(t)
	wantProps := map[string]any{"format": "calendar", "pattern": daily, "start_time": now}
	if !equalJSON(r.Get(t, "trigger_info", "properties"), wantProps) {
		t.Errorf("updated properties %s, want %v", r.Raw, wantProps)
	}
	if got := e.do(t, "GET", "triggers/"+id, nil).OK(t).Str(t, "trigger_info", "properties", "pattern"); got != daily {
		t.Errorf("pattern after update %q, want %q", got, daily)
	}

	// Update refusals; nothing changes.
	for _, tc := range []struct {
		body obj
		want []string
	}{
		{obj{"trigger_info": obj{"properties": calendar(weekly)}}, []string{"start_time", "required"}},
		{obj{"trigger_info": obj{"properties": calendar("FREQ=DAILY", "start_time", now)}}, []string{"pattern"}},
		{obj{"trigger_info": obj{"properties": calendar(daily, "start_time", "2030-01-01T00:00:00")}}, []string{"start_time", "YYYY-MM-DD HH:MM:SS"}},
		{obj{"trigger_info": obj{"properties": calendar(daily, "start_time", now, "window", -1)}}, []string{"window"}},
		{obj{"trigger_info": obj{"properties": calendar(daily, "start_time", now, "end_time", "2000-01-01 00:00:00")}}, []string{"end_time"}},
		{obj{"trigger_info": obj{"name": ""}}, []string{"name"}},
		{obj{"trigger_info": obj{"colour": "red"}}, []string{"colour"}},
		{obj{"trigger": obj{"name": "x"}}, []string{`"trigger_info"`}},
	} {
		e.do(t, "PUT", "triggers/"+id, tc.body).Fault(t, http.StatusBadRequest, tc.want...)
	}
	if r := e.do(t, "GET", "triggers/"+id, nil).OK(t); r.Str(t, "trigger_info", "name") != "renamed" ||
		!equalJSON(r.Get(t, "trigger_info", "properties"), wantProps) {
		t.Errorf("after refused updates %s", r.Raw)
	}

	// T4: delete, an empty 200, then gone everywhere.
	if r := e.do(t, "DELETE", "triggers/"+id, nil).OK(t); len(r.Raw) != 0 {
		t.Errorf("delete body %q, want empty", r.Raw)
	}
	e.do(t, "GET", "triggers/"+id, nil).Fault(t, http.StatusNotFound, id)
	e.do(t, "PUT", "triggers/"+id, obj{"trigger_info": obj{"name": "x"}}).Fault(t, http.StatusNotFound, id)
	e.do(t, "DELETE", "triggers/"+id, nil).Fault(t, http.StatusNotFound, id)
	if got := e.do(t, "GET", "triggers", nil).OK(t).IDs(t, "triggers"); !slices.Equal(got, []string{cronID}) {
		t.Errorf("triggers after delete %v, want [%s]", got, cronID)
	}
	for _, m := range []string{"GET", "PUT", "DELETE"} {
		e.do(t, m, "triggers/nope", obj{"trigger_info": obj{}}).Fault(t, http.StatusBadRequest, "nope")
	}
}

func TestTriggerCreateRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const start = "2030-01-01 00:00:00"
	for _, tc := range []struct {
		name string
		body any
		want []string
	}{
		{"unparsable calendar pattern", triggerBody("t", calendar("BEGIN:VEVENT\\nRRULE:FREQ=SOMETIMES\\nEND:VEVENT")), []string{"property pattern", "RRULE"}},
		{"calendar pattern without VEVENT", triggerBody("t", calendar("FREQ=DAILY")), []string{"property pattern"}},
		{"unparsable crontab pattern", triggerBody("t", obj{"format": "crontab", "pattern": "every day"}), []string{"property pattern", "crontab"}},
		{"crontab pattern in calendar format", triggerBody("t", calendar("0 * * * *")), []string{"property pattern"}},
		{"too frequent", triggerBody("t", calendar("BEGIN:VEVENT\\nRRULE:FREQ=MINUTELY;INTERVAL=2;\\nEND:VEVENT")), []string{"property pattern", "minimum interval"}},
		{"never fires", triggerBody("t", obj{"format": "crontab", "pattern": "0 0 30 2 *"}), []string{"property pattern", "never"}},
		{"no pattern", triggerBody("t", obj{"format": "calendar"}), []string{"pattern", "required"}},
		{"no format", triggerBody("t", obj{"pattern": weekly}), []string{"format", "required"}},
		{"unknown format", triggerBody("t", calendar(weekly, "format", "ical")), []string{"property format", "ical"}},
		{"end before start", triggerBody("t", calendar(weekly, "start_time", start, "end_time", "2029-12-31 00:00:00")), []string{"property end_time", "not after"}},
		{"bad end_time", triggerBody("t", calendar(weekly, "end_time", "2031-01-01")), []string{"property end_time", "YYYY-MM-DD HH:MM:SS"}},
		{"ISO start_time", triggerBody("t", calendar(weekly, "start_time", "2030-01-01T00:00:00")), []string{"property start_time", "YYYY-MM-DD HH:MM:SS"}},
		{"empty start_time", triggerBody("t", calendar(weekly, "start_time", "")), []string{"property start_time"}},
		{"start_time not a string", triggerBody("t", calendar(weekly, "start_time", 1700000000)), []string{"start_time", "string"}},
		{"negative window", triggerBody("t", calendar(weekly, "window", -30)), []string{"property window", "between 900 s and 1800 s"}},
		{"window too short", triggerBody("t", calendar(weekly, "window", 30)), []string{"property window", "between"}},
		{"window too long", triggerBody("t", calendar(weekly, "window", "1801")), []string{"property window"}},
		{"fractional window", triggerBody("t", calendar(weekly, "window", 900.5)), []string{"window", "integer"}},
		{"window not a number", triggerBody("t", calendar(weekly, "window", "soon")), []string{"window", "soon"}},
		{"unknown property", triggerBody("t", calendar(weekly, "colour", "red")), []string{"properties", "colour"}},
		{"unknown type", obj{"trigger_info": obj{"name": "t", "type": "event", "properties": calendar(weekly)}}, []string{"Invalid trigger type", "event"}},
		{"no type", obj{"trigger_info": obj{"name": "t", "properties": calendar(weekly)}}, []string{"type", "required"}},
		{"no name", obj{"trigger_info": obj{"type": "time", "properties": calendar(weekly)}}, []string{"name"}},
		{"blank name", triggerBody(" ", calendar(weekly)), []string{"name"}},
		{"long name", triggerBody(strings.Repeat("n", 256), calendar(weekly)), []string{"name"}},
		{"no properties", obj{"trigger_info": obj{"name": "t", "type": "time"}}, []string{"properties"}},
		{"unknown field", obj{"trigger_info": obj{"name": "t", "type": "time", "properties": calendar(weekly), "colour": "red"}}, []string{"colour"}},
		{"wrong wrapper", obj{"trigger": obj{"name": "t"}}, []string{`"trigger_info"`}},
		{"not JSON", "{", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.do(t, "POST", "triggers", tc.body).Fault(t, http.StatusBadRequest, tc.want...)
		})
	}
	if got := e.do(t, "GET", "triggers", nil).OK(t).IDs(t, "triggers"); len(got) != 0 {
		t.Errorf("triggers %v after refused creates, want none", got)
	}
}

func TestTriggerListFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.trigger(t, token, "hourly backup", calendar(hourly))
	b := e.trigger(t, token, "weekly backup", calendar(weekly, "window", 1800))
	c := e.trigger(t, token, "nightly", obj{"format": "crontab", "pattern": "0 2 * * *"})
	theirs := e.trigger(t, "carol:other", "hourly", calendar(hourly))
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{c, b, a}},
		{"sort=created_at:asc", []string{a, b, c}},
		{"sort_dir=asc&limit=2", []string{a, b}},
		{"limit=1&marker=" + c, []string{b}},
		{"name=backup", []string{b, a}},
		{"name=%5Ehourly", []string{a}},
		{"name=%5B", nil}, // not a regex: a substring
		{"type=time", []string{c, b, a}},
		{"type=event", nil},
		{"type=%5B%27event%27%2C+%27time%27%5D", []string{c, b, a}}, // ['event', 'time']
		{"properties=crontab", []string{c}},
		{"properties=window.%2A1800", []string{b}}, // window.*1800
		{"properties=calendar", []string{b, a}},
		{"properties=" + url.QueryEscape("{'format': 'crontab'}"), []string{c}}, // a dict: these pairs
		{"properties=" + url.QueryEscape("{'format': 'calendar', 'window': 1800}"), []string{b}},
		{"name=backup&properties=FREQ%3DHOURLY", []string{a}},
		{"name=backup&limit=1", []string{b}},
		{"all_tenants=1&name=hourly", []string{theirs, a}},
		{"all_tenants=1&project_id=other", []string{theirs}},
	} {
		if got := e.do(t, "GET", "triggers?"+tc.query, nil).OK(t).IDs(t, "triggers"); !slices.Equal(got, tc.want) {
			t.Errorf("triggers?%s: %v, want %v", tc.query, got, tc.want)
		}
	}
	e.do(t, "GET", "triggers?limit=0", nil).Fault(t, http.StatusBadRequest, "limit")
	e.do(t, "GET", "triggers?sort_dir=sideways", nil).Fault(t, http.StatusBadRequest, "sideways")
	e.do(t, "GET", "triggers?marker="+theirs, nil).Fault(t, http.StatusNotFound, theirs)
}

// TestTriggerOtherProject: another project's trigger is 403 for a member and
// visible to an admin, who may not use it for a scheduled operation though
// (see TestScheduledOperationRefusals).
func TestTriggerOtherProject(t *testing.T) {
	t.Parallel()
	e := newMemberEnv(t)
	const alice, carol = "alice:demo", "carol:other"
	id := e.trigger(t, alice, "mine", calendar(weekly))
	e.doAs(t, carol, "GET", "triggers/"+id, nil).Fault(t, http.StatusForbidden, id)
	e.doAs(t, carol, "PUT", "triggers/"+id, obj{"trigger_info": obj{"name": "theirs"}}).Fault(t, http.StatusForbidden, id)
	e.doAs(t, carol, "DELETE", "triggers/"+id, nil).Fault(t, http.StatusForbidden, id)
	// A member's all_tenants is dropped.
	if got := e.doAs(t, carol, "GET", "triggers?all_tenants=1", nil).OK(t).IDs(t, "triggers"); len(got) != 0 {
		t.Errorf("carol's triggers?all_tenants=1: %v, want none", got)
	}
	// Another project's URL is refused before anything else.
	e.doAs(t, carol, "GET", "/v1/demo/triggers/"+id, nil).Fault(t, http.StatusBadRequest, "Malformed request url")
	// The owner still has it, unchanged.
	if r := e.doAs(t, alice, "GET", "triggers/"+id, nil).OK(t); r.Str(t, "trigger_info", "name") != "mine" {
		t.Errorf("after refusals: %s", r.Raw)
	}
	e.doAs(t, alice, "DELETE", "triggers/"+id, nil).OK(t)

	// noauth callers are admins: another project's trigger is theirs to see.
	admin := newEnv(t)
	id = admin.trigger(t, "carol:other", "theirs", calendar(weekly))
	admin.do(t, "GET", "triggers/"+id, nil).OK(t)
	admin.do(t, "GET", "/v1/other/triggers/"+id, nil).Fault(t, http.StatusBadRequest, "Malformed request url")
}
