package schedule

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// FromJSON turns the properties of a trigger request body into the strings
// Karbor stores (spec §2.9): every property a JSON string, except window,
// which may also be a JSON integer (python-karborclient sends one) and is
// stored as its decimal text ("30"). Unknown properties and values of other
// types are refused with a *PropertyError. The values are not validated:
// Parse does that.
func FromJSON(raw map[string]json.RawMessage) (map[string]string, error) {
	out := make(map[string]string, len(raw))
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		if !slices.Contains(properties, k) {
			return nil, propErr(k, nil, "unknown property; a time trigger has %s", strings.Join(properties, ", "))
		}
		v := bytes.TrimSpace(raw[k])
		var s string
		if err := json.Unmarshal(v, &s); err == nil && len(v) > 0 && v[0] == '"' {
			out[k] = s
			continue
		}
		if k == PropWindow {
			if _, err := strconv.ParseInt(string(v), 10, 64); err == nil {
				out[k] = string(v)
				continue
			}
			return nil, propErr(k, nil, "must be an integer (seconds), not %s", cut(string(v)))
		}
		return nil, propErr(k, nil, "must be a string, not %s", cut(string(v)))
	}
	return out, nil
}
