package bank

import (
	"slices"
	"strings"
)

// Page sorts keys as opts asks and applies its marker and limit. Banks that
// list everything under a prefix use it to share one meaning of ListOptions.
func Page(keys []string, opts ListOptions) []string {
	desc := strings.EqualFold(opts.Sort, Desc)
	slices.Sort(keys)
	if desc {
		slices.Reverse(keys)
	}
	if opts.Marker != "" {
		i := 0
		for i < len(keys) && !after(keys[i], opts.Marker, desc) {
			i++
		}
		keys = keys[i:]
	}
	if opts.Limit > 0 && len(keys) > opts.Limit {
		keys = keys[:opts.Limit]
	}
	return keys
}

func after(k, marker string, desc bool) bool {
	if desc {
		return k < marker
	}
	return k > marker
}
