package schedule

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/teambition/rrule-go"
)

// cronParser is robfig/cron's standard parser: 5 fields and descriptors.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// crontab is a cron line, in UTC.
type crontab struct {
	spec  *cron.SpecSchedule
	start time.Time
}

func parseCrontab(pattern string, start time.Time) (rule, error) {
	switch {
	case strings.HasPrefix(pattern, "TZ=") || strings.HasPrefix(pattern, "CRON_TZ="):
		return nil, propErr(PropPattern, nil, "%q: time zones are not supported, triggers are in UTC", cut(pattern))
	case strings.HasPrefix(pattern, "@every"):
		return nil, propErr(PropPattern, nil, "%q: @every is not a crontab line", cut(pattern))
	}
	sched, err := cronParser.Parse(pattern)
	if err != nil {
		return nil, propErr(PropPattern, err, "%q is not a 5-field crontab line", cut(pattern))
	}
	spec, ok := sched.(*cron.SpecSchedule)
	if !ok {
		return nil, propErr(PropPattern, nil, "%q is not a crontab line", cut(pattern))
	}
	spec.Location = time.UTC // the parser's default, time.Local, means "the zone of the time given"
	return &crontab{spec: spec, start: start}, nil
}

func (c *crontab) next(t time.Time) time.Time { return c.spec.Next(t) }

func (c *crontab) iterate(yield func(time.Time) bool) {
	for t := c.spec.Next(c.start.Add(-time.Second)); !t.IsZero(); t = c.spec.Next(t) {
		if !yield(t) {
			return
		}
	}
}

// calendar is an RRULE with DTSTART = start_time.
type calendar struct{ rule *rrule.RRule }

// decodeEscapes decodes literal escapes (the two characters \n) in a
// calendar pattern. Karbor reads a pattern holding a backslash as the body of
// a JSON string, keeping it as it is if that fails; Pouch then still turns
// \r\n, \n and \r into line breaks.
func decodeEscapes(p string) string {
	if !strings.Contains(p, `\`) {
		return p
	}
	var s string
	if err := json.Unmarshal([]byte(`"`+p+`"`), &s); err == nil {
		return s
	}
	return strings.NewReplacer(`\r\n`, "\n", `\n`, "\n", `\r`, "\n").Replace(p)
}

func parseCalendar(pattern string, start time.Time) (rule, error) {
	value, err := firstRRule(pattern)
	if err != nil {
		return nil, propErr(PropPattern, nil, "%q: %s", cut(pattern), err)
	}
	// Karbor's icalendar is lenient: names in any case, a trailing ";".
	var parts []string
	for p := range strings.SplitSeq(strings.ToUpper(value), ";") {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	opt, err := rrule.StrToROption(strings.Join(parts, ";"))
	if err != nil {
		return nil, propErr(PropPattern, err, "invalid RRULE %q", cut(value))
	}
	opt.Dtstart = start // Karbor's DTSTART is start_time, whatever the RRULE says
	r, err := rrule.NewRRule(*opt)
	if err != nil {
		return nil, propErr(PropPattern, err, "invalid RRULE %q", cut(value))
	}
	return &calendar{rule: r}, nil
}

func (c *calendar) next(t time.Time) time.Time { return c.rule.After(t, false) }

func (c *calendar) iterate(yield func(time.Time) bool) {
	next := c.rule.Iterator()
	for t, ok := next(); ok; t, ok = next() {
		if !yield(t) {
			return
		}
	}
}

// calError is a reason an iCalendar text is refused.
type calError string

func (e calError) Error() string { return string(e) }

// firstRRule reads an iCalendar text (RFC 5545 content lines, folded or
// not, in nested BEGIN/END components) and returns the value of the RRULE of
// its first VEVENT.
func firstRRule(text string) (string, error) {
	var lines []string
	for l := range strings.SplitSeq(strings.TrimSpace(text), "\n") {
		l = strings.TrimSuffix(l, "\r")
		switch {
		case (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")) && len(lines) > 0:
			lines[len(lines)-1] += l[1:] // unfold
		case strings.TrimSpace(l) != "":
			lines = append(lines, l)
		}
	}
	var stack []string
	rrules, events := 0, 0
	var value string
	for _, l := range lines {
		name, v, ok := contentLine(l)
		if !ok {
			return "", calError("line " + quote(l) + " is not NAME:VALUE")
		}
		switch name {
		case "BEGIN":
			c := strings.ToUpper(strings.TrimSpace(v))
			stack = append(stack, c)
			if c == "VEVENT" {
				events++
			}
		case "END":
			c := strings.ToUpper(strings.TrimSpace(v))
			if len(stack) == 0 || stack[len(stack)-1] != c {
				return "", calError("END:" + c + " does not close an open BEGIN:" + c)
			}
			stack = stack[:len(stack)-1]
		default:
			if len(stack) == 0 {
				return "", calError("property " + name + " is outside any BEGIN/END component")
			}
			if name == "RRULE" && events == 1 && stack[len(stack)-1] == "VEVENT" {
				rrules++
				value = v
			}
		}
	}
	switch {
	case len(stack) > 0:
		return "", calError("BEGIN:" + stack[len(stack)-1] + " has no END")
	case events == 0:
		return "", calError("no VEVENT component (want BEGIN:VEVENT, RRULE:..., END:VEVENT)")
	case rrules == 0:
		return "", calError("the first VEVENT has no RRULE")
	case rrules > 1:
		return "", calError("the first VEVENT has more than one RRULE")
	}
	return value, nil
}

// contentLine splits NAME[;PARAM=...]:VALUE; the name is upper-cased.
func contentLine(l string) (name, value string, ok bool) {
	i := strings.IndexAny(l, ";:")
	if i <= 0 {
		return "", "", false
	}
	name = strings.ToUpper(strings.TrimSpace(l[:i]))
	quoted := false
	for j := i; j < len(l); j++ {
		switch l[j] {
		case '"':
			quoted = !quoted
		case ':':
			if !quoted {
				return name, l[j+1:], name != ""
			}
		}
	}
	return "", "", false
}

// quote quotes a line for a message, cut after 80 characters.
func quote(s string) string { return strconv.Quote(cut(s)) }

// cut shortens s to 80 characters for a message.
func cut(s string) string {
	if r := []rune(s); len(r) > 80 {
		return string(r[:80]) + "..."
	}
	return s
}
