// Package schedule reads the properties of Karbor's time triggers (spec
// §7.1) and tells when a trigger fires next.
//
// A trigger's properties are strings, as Karbor stores and returns them:
//
//   - format: "crontab" (a 5-field cron line, read by robfig/cron's standard
//     parser; descriptors such as @daily are accepted, @every is not) or
//     "calendar" (an iCalendar text whose first VEVENT holds an RRULE, e.g.
//     BEGIN:VEVENT\nRRULE:FREQ=WEEKLY;INTERVAL=1;\nEND:VEVENT, read by
//     rrule-go with DTSTART = start_time). Karbor ignored this property and
//     used one format for the whole service; Pouch honours each trigger's.
//   - pattern: the cron line or the iCalendar text. Literal two-character
//     escapes (\n) are decoded first, as Karbor does.
//   - start_time, end_time: "YYYY-MM-DD HH:MM:SS" in UTC; end_time, if set,
//     must be after start_time. An occurrence at end_time still fires.
//   - window: how many seconds after an occurrence the operation may still
//     start, an integer (or an integer string) within the Config's bounds;
//     absent, Config.MinWindow.
//
// Every time is UTC, as in Karbor: neither format takes a time zone (a cron
// line's CRON_TZ= or TZ= prefix is refused, and a VEVENT's DTSTART, with or
// without TZID, is ignored in favour of start_time), so daylight saving time
// changes nowhere move an occurrence.
//
// Parse validates like Karbor's operation engine (and a bit more: a pattern
// that never fires is refused, and the shortest gap between occurrences is
// measured over the first occurrences rather than guessed from FREQ).
// Errors are *PropertyError, naming the property at fault; they match
// ErrInvalid with errors.Is.
//
// Nothing here reads the clock: Schedule.Next takes the reference time.
//
// Firing triggers is package scheduler's business (the tick function).
package schedule
