package schedule

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Formats of a trigger's pattern.
const (
	FormatCrontab  = "crontab"
	FormatCalendar = "calendar"
)

// Properties of a time trigger.
const (
	PropFormat    = "format"
	PropPattern   = "pattern"
	PropStartTime = "start_time"
	PropEndTime   = "end_time"
	PropWindow    = "window"
)

// properties lists every property a time trigger may have.
var properties = []string{PropFormat, PropPattern, PropStartTime, PropEndTime, PropWindow}

// TimeLayout is how start_time and end_time are written (UTC).
const TimeLayout = "2006-01-02 15:04:05"

// parseLayout also reads unpadded fields ("2017-6-1 9:05:00"), as Python's
// strptime("%Y-%m-%d %H:%M:%S") does.
const parseLayout = "2006-1-2 15:4:5"

// sampleSize is how many occurrences, from start_time on, Parse looks at to
// find the shortest gap between two of them.
const sampleSize = 1000

// Config bounds what triggers may ask. A zero field takes Karbor's default.
type Config struct {
	// MinInterval is the shortest gap allowed between two occurrences
	// (Karbor's min_interval; default 3600 s, devstack 60 s).
	MinInterval time.Duration
	// MinWindow and MaxWindow bound the window (min_window_time and
	// max_window_time; defaults 900 s and 1800 s, devstack 20 s and 30 s);
	// a trigger without a window gets MinWindow.
	MinWindow time.Duration
	MaxWindow time.Duration
}

// DefaultConfig is Karbor's defaults.
func DefaultConfig() Config {
	return Config{MinInterval: 3600 * time.Second, MinWindow: 900 * time.Second, MaxWindow: 1800 * time.Second}
}

// WithDefaults is c with its zero fields set to Karbor's defaults.
func (c Config) WithDefaults() Config {
	d := DefaultConfig()
	if c.MinInterval == 0 {
		c.MinInterval = d.MinInterval
	}
	if c.MinWindow == 0 {
		c.MinWindow = d.MinWindow
	}
	if c.MaxWindow == 0 {
		c.MaxWindow = d.MaxWindow
	}
	return c
}

// Validate applies Karbor's sanity rules to a configuration (after
// defaults): positive values, MinWindow < MaxWindow and 2·MaxWindow ≤
// MinInterval, so that two firings' windows never overlap.
func (c Config) Validate() error {
	c = c.WithDefaults()
	switch {
	case c.MinInterval < time.Second || c.MinWindow < time.Second || c.MaxWindow < time.Second:
		return fmt.Errorf("schedule config: min interval %v, min window %v and max window %v must be at least 1s",
			c.MinInterval, c.MinWindow, c.MaxWindow)
	case c.MinWindow >= c.MaxWindow:
		return fmt.Errorf("schedule config: min window %v must be less than max window %v", c.MinWindow, c.MaxWindow)
	case 2*c.MaxWindow > c.MinInterval:
		return fmt.Errorf("schedule config: twice the max window %v exceeds the min interval %v", c.MaxWindow, c.MinInterval)
	}
	return nil
}

// ErrInvalid is matched (errors.Is) by every *PropertyError.
var ErrInvalid = errors.New("invalid trigger properties")

// PropertyError is an invalid trigger property.
type PropertyError struct {
	Property string // PropFormat, ..., PropWindow, or an unknown property's name
	Reason   string // what is wrong, for people
	Err      error  // the parser's error, if any
}

func (e *PropertyError) Error() string {
	msg := "trigger property " + e.Property + ": " + e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *PropertyError) Unwrap() error { return e.Err }

// Is makes every PropertyError match ErrInvalid.
func (e *PropertyError) Is(target error) bool { return target == ErrInvalid }

func propErr(prop string, err error, format string, args ...any) *PropertyError {
	return &PropertyError{Property: prop, Reason: fmt.Sprintf(format, args...), Err: err}
}

// Schedule is a parsed time trigger.
type Schedule struct {
	Format  string
	Pattern string        // with escapes decoded
	Start   time.Time     // UTC
	End     time.Time     // UTC; zero: none
	Window  time.Duration // never zero
	rule    rule
}

// rule makes the occurrences of a pattern, from a start time on.
type rule interface {
	// next is the first occurrence strictly after t (t ≥ start - 1 s), the
	// zero time if none.
	next(t time.Time) time.Time
	// iterate calls yield with each occurrence from start on, in order,
	// until it returns false or there are none left.
	iterate(yield func(time.Time) bool)
}

// Parse reads and validates a time trigger's properties, as stored (every
// value a string). It returns a *PropertyError naming the first property at
// fault.
func Parse(props map[string]string, cfg Config) (*Schedule, error) {
	return parse(props, cfg, true)
}

// Load reads properties Parse accepted when they were stored, without the
// bounds checks that only matter then (the minimum interval and the window
// range): the tick loads many triggers, and a bounds change must not stop
// triggers that exist.
func Load(props map[string]string, cfg Config) (*Schedule, error) {
	return parse(props, cfg, false)
}

func parse(props map[string]string, cfg Config, validate bool) (*Schedule, error) {
	cfg = cfg.WithDefaults()
	var unknown []string
	for k := range props {
		if !slices.Contains(properties, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, propErr(unknown[0], nil, "unknown property; a time trigger has %s", strings.Join(properties, ", "))
	}
	s := &Schedule{Format: props[PropFormat]}
	switch s.Format {
	case FormatCrontab, FormatCalendar:
	case "":
		return nil, propErr(PropFormat, nil, "is required: %q or %q", FormatCrontab, FormatCalendar)
	default:
		return nil, propErr(PropFormat, nil, "%q is not %q or %q", s.Format, FormatCrontab, FormatCalendar)
	}

	pattern, ok := props[PropPattern]
	if !ok || strings.TrimSpace(pattern) == "" {
		return nil, propErr(PropPattern, nil, "is required")
	}
	start, ok := props[PropStartTime]
	if !ok || start == "" {
		return nil, propErr(PropStartTime, nil, "is required")
	}
	var err error
	if s.Start, err = parseTime(PropStartTime, start); err != nil {
		return nil, err
	}
	if end := props[PropEndTime]; end != "" { // Karbor: empty means none
		if s.End, err = parseTime(PropEndTime, end); err != nil {
			return nil, err
		}
		if !s.End.After(s.Start) {
			return nil, propErr(PropEndTime, nil, "%s is not after start_time %s", end, start)
		}
	}

	switch s.Format {
	case FormatCrontab:
		s.Pattern = strings.TrimSpace(pattern)
		s.rule, err = parseCrontab(s.Pattern, s.Start)
	case FormatCalendar:
		s.Pattern = decodeEscapes(pattern)
		s.rule, err = parseCalendar(s.Pattern, s.Start)
	}
	if err != nil {
		return nil, err
	}

	s.Window = cfg.MinWindow
	if w, ok := props[PropWindow]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil {
			return nil, propErr(PropWindow, nil, "%q is not an integer (seconds)", w)
		}
		s.Window = time.Duration(n) * time.Second
		if validate && (s.Window < cfg.MinWindow || s.Window > cfg.MaxWindow) {
			return nil, propErr(PropWindow, nil, "%d s is not between %d s and %d s", n,
				int64(cfg.MinWindow/time.Second), int64(cfg.MaxWindow/time.Second))
		}
	}

	if validate {
		if err := s.checkInterval(cfg.MinInterval); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func parseTime(prop, v string) (time.Time, error) {
	t, err := time.ParseInLocation(parseLayout, v, time.UTC)
	if err != nil {
		return time.Time{}, propErr(prop, nil, "%q is not in the format YYYY-MM-DD HH:MM:SS (UTC)", v)
	}
	return t, nil
}

// checkInterval refuses a pattern that never fires from start_time on, or
// two of whose first sampleSize occurrences are less than least apart.
func (s *Schedule) checkInterval(least time.Duration) error {
	var prev time.Time
	n := 0
	var err error
	s.rule.iterate(func(t time.Time) bool {
		n++
		if n > 1 {
			if gap := t.Sub(prev); gap < least {
				err = propErr(PropPattern, nil, "occurrences %s and %s are %s apart, less than the minimum interval of %d s",
					prev.Format(TimeLayout), t.Format(TimeLayout), gap, int64(least/time.Second))
				return false
			}
		}
		prev = t
		return n < sampleSize
	})
	if err == nil && n == 0 {
		err = propErr(PropPattern, nil, "%q never fires after start_time %s", cut(s.Pattern), s.Start.Format(TimeLayout))
	}
	return err
}

// Next is the first occurrence strictly after after, no earlier than Start
// and no later than End; false if there is none. The time is UTC.
func (s *Schedule) Next(after time.Time) (time.Time, bool) {
	if after.Before(s.Start) {
		after = s.Start.Add(-time.Second)
	}
	t := s.rule.next(after)
	if t.IsZero() || !s.End.IsZero() && t.After(s.End) {
		return time.Time{}, false
	}
	return t.UTC(), true
}
