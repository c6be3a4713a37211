package api

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pouchdp/pouch/shared/store"
)

// maxLimit is Karbor's osapi_max_limit: the default and largest page.
const maxLimit = 1000

// listSpec describes how a collection is listed (spec §1.3).
type listSpec struct {
	key     string   // collection key, e.g. "plans"; links are "<key>_links"
	path    string   // path after /v1/<project> for next links, e.g. "/plans"
	filters []string // filter keys a non-admin may use (others are dropped)
	regex   []string // filter keys matched as a regular expression
	offset  bool     // offset is accepted
}

type sortKey struct {
	key string
	asc bool
}

// listQuery is a list call's parameters, parsed.
type listQuery struct {
	limit      int
	marker     string
	offset     int
	sort       []sortKey
	filters    map[string]any // values parsed as Python literals
	allTenants bool
}

// pageKeys are the query parameters that are not filters.
var pageKeys = []string{"limit", "marker", "offset", "sort", "sort_key", "sort_dir", "all_tenants"}

// parseListQuery reads limit, marker, offset, sort and filters. Filters a
// non-admin may not use are dropped silently, as Karbor does.
func (a *API) parseListQuery(r *http.Request, c *Caller, spec listSpec) (*listQuery, error) {
	q := r.URL.Query()
	lq := &listQuery{limit: maxLimit, marker: q.Get("marker"), filters: map[string]any{}}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return nil, errorf(http.StatusBadRequest, "Invalid limit %q: a positive integer is required.", v)
		}
		lq.limit = min(n, maxLimit)
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || !spec.offset {
			return nil, errorf(http.StatusBadRequest, "Invalid offset %q: a non-negative integer is required.", v)
		}
		lq.offset = n
	}
	var err error
	if lq.sort, err = parseSort(q); err != nil {
		return nil, err
	}
	if v := q.Get("all_tenants"); v != "" {
		b, ok := boolish(v)
		if !ok {
			return nil, errorf(http.StatusBadRequest, "Invalid all_tenants %q: use true or false.", v)
		}
		lq.allTenants = b && c.IsAdmin
	}
	for k, vs := range q {
		if slices.Contains(pageKeys, k) || (!c.IsAdmin && !slices.Contains(spec.filters, k)) {
			continue
		}
		v, err := parseLiteral(vs[0])
		if err != nil {
			v = vs[0] // not a literal: the plain string
		}
		lq.filters[k] = v
	}
	return lq, nil
}

// boolish reads Karbor's boolean strings.
func boolish(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "1", "true", "yes", "y", "on", "t":
		return true, true
	case "0", "false", "no", "n", "off", "f":
		return false, true
	}
	return false, false
}

var sortKeyPattern = regexp.MustCompile(`^[a-z_]{1,64}$`)

// parseSort reads sort=key[:dir],... or the deprecated sort_key/sort_dir
// (not both). The default is created_at descending; created_at and id end
// every order as tie-breakers, in the first direction.
func parseSort(q url.Values) ([]sortKey, error) {
	s, sk, sd := q.Get("sort"), q.Get("sort_key"), q.Get("sort_dir")
	if s != "" && (sk != "" || sd != "") {
		return nil, errorf(http.StatusBadRequest, "The sort parameter cannot be used with sort_key or sort_dir.")
	}
	var keys []sortKey
	add := func(key, dir string) error {
		if !sortKeyPattern.MatchString(key) {
			return errorf(http.StatusBadRequest, "Invalid sort key %q.", key)
		}
		switch strings.ToLower(dir) {
		case "", "desc":
			keys = append(keys, sortKey{key: key})
		case "asc":
			keys = append(keys, sortKey{key: key, asc: true})
		default:
			return errorf(http.StatusBadRequest, "Invalid sort direction %q: use asc or desc.", dir)
		}
		return nil
	}
	switch {
	case s != "":
		for _, part := range strings.Split(s, ",") {
			k, d, _ := strings.Cut(strings.TrimSpace(part), ":")
			if err := add(k, d); err != nil {
				return nil, err
			}
		}
	default:
		if err := add(cmp.Or(sk, "created_at"), sd); err != nil {
			return nil, err
		}
	}
	asc := keys[0].asc
	for _, k := range []string{"created_at", "id"} {
		if !slices.ContainsFunc(keys, func(s sortKey) bool { return s.key == k }) {
			keys = append(keys, sortKey{key: k, asc: asc})
		}
	}
	return keys, nil
}

// byCreation reports whether the order is plain creation time (then id), in
// one direction: what the store's indices give without reading every record.
func (lq *listQuery) byCreation() bool {
	return len(lq.sort) == 2 && lq.sort[0].key == "created_at" && lq.sort[1].key == "id" &&
		lq.sort[0].asc == lq.sort[1].asc
}

// listTable lists a store table of the caller's project (or every project
// for an admin's all_tenants): filtered, sorted and paged as Karbor does.
func listTable[T, V any](a *API, r *http.Request, c *Caller, t *store.Table[T], spec listSpec, view func(*T) V) (any, error) {
	lq, err := a.parseListQuery(r, c, spec)
	if err != nil {
		return nil, err
	}
	o := store.ListOptions{Project: c.ProjectID, AllProjects: lq.allTenants}
	var items []*T
	if len(lq.filters) == 0 && lq.byCreation() {
		o.Marker, o.Limit, o.Offset, o.Asc = lq.marker, lq.limit, lq.offset, lq.sort[0].asc
		items, err = t.List(r.Context(), o)
		if errors.Is(err, store.ErrNotFound) {
			return nil, errorf(http.StatusNotFound, "Marker %s could not be found.", lq.marker)
		}
	} else {
		items, err = selectRecords(r, t, o, lq, spec)
	}
	if err != nil {
		return nil, err
	}
	out := make([]any, len(items))
	ids := make([]string, len(items))
	for i, it := range items {
		out[i] = view(it)
		ids[i] = t.IDOf(it)
	}
	return a.page(r, spec, lq, out, ids), nil
}

// page is {"<key>": items} plus Karbor's next link when the page is full.
func (a *API) page(r *http.Request, spec listSpec, lq *listQuery, items []any, ids []string) map[string]any {
	body := map[string]any{spec.key: items}
	if len(items) == 0 || len(items) < lq.limit {
		return body
	}
	q := r.URL.Query()
	q.Set("marker", ids[len(ids)-1])
	q.Del("offset")
	href := fmt.Sprintf("http://%s/v1/%s%s?%s", r.Host, r.PathValue("project"), spec.path, q.Encode())
	body[spec.key+"_links"] = []any{map[string]any{"rel": "next", "href": href}}
	return body
}

// selectRecords reads every record of the scope, then filters, sorts and
// pages them in memory; only the records of the page are decoded.
func selectRecords[T any](r *http.Request, t *store.Table[T], o store.ListOptions, lq *listQuery, spec listSpec) ([]*T, error) {
	raws, err := t.ListRaw(r.Context(), o)
	if err != nil {
		return nil, err
	}
	type row struct {
		raw  []byte
		id   string
		keys []any // the sort keys' values, comparable by compareValues
	}
	need := []string{"id"}
	for k := range lq.filters {
		need = append(need, k)
	}
	for _, k := range lq.sort {
		need = append(need, k.key)
	}
	rows := make([]row, 0, len(raws))
	for _, raw := range raws {
		fields, err := pickFields(raw, need)
		if err != nil {
			return nil, err
		}
		if !matches(fields, lq.filters, spec.regex) {
			continue
		}
		x := row{raw: raw, id: fmt.Sprint(fields["id"]), keys: make([]any, len(lq.sort))}
		for i, k := range lq.sort {
			x.keys[i] = sortValue(fields[k.key])
		}
		rows = append(rows, x)
	}
	slices.SortStableFunc(rows, func(x, y row) int {
		for i, k := range lq.sort {
			c := compareValues(x.keys[i], y.keys[i])
			if !k.asc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	start := 0
	if lq.marker != "" {
		i := slices.IndexFunc(rows, func(x row) bool { return x.id == lq.marker })
		if i < 0 {
			return nil, errorf(http.StatusNotFound, "Marker %s could not be found.", lq.marker)
		}
		start = i + 1
	}
	start = min(start+lq.offset, len(rows))
	end := min(start+lq.limit, len(rows))
	out := make([]*T, 0, end-start)
	for _, x := range rows[start:end] {
		v, err := t.Decode(x.raw)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// pickFields decodes only the named top-level fields of a JSON object.
func pickFields(raw []byte, names []string) (map[string]any, error) {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil {
		return nil, err
	}
	out := make(map[string]any, len(names))
	for _, n := range names {
		if v, ok := all[n]; ok {
			var x any
			if err := json.Unmarshal(v, &x); err != nil {
				return nil, err
			}
			out[n] = x
		}
	}
	return out, nil
}

// matches applies Karbor's filters: a list value matches any of its items;
// a dict value matches an object holding its pairs;
// keys in regex match as a regular expression (or, if the value is not a
// valid one, as a substring); others match exactly. A key the record does
// not have matches nothing.
func matches(fields map[string]any, filters map[string]any, regex []string) bool {
	for k, want := range filters {
		got, ok := fields[k]
		if !ok {
			return false
		}
		if wm, ok := want.(map[string]any); ok {
			// A dict matches an object that holds each of its pairs.
			if !containsPairs(got, wm) {
				return false
			}
			continue
		}
		gs := filterString(got)
		alts, isList := want.([]any)
		if !isList {
			alts = []any{want}
		}
		if !slices.ContainsFunc(alts, func(w any) bool {
			ws := filterString(w)
			if slices.Contains(regex, k) {
				if re, err := regexp.Compile(ws); err == nil {
					return re.MatchString(gs)
				}
				return strings.Contains(gs, ws)
			}
			return gs == ws
		}) {
			return false
		}
	}
	return true
}

// containsPairs reports whether got is an object with every pair of want
// (values compared as filterString writes them).
func containsPairs(got any, want map[string]any) bool {
	gm, ok := got.(map[string]any)
	if !ok {
		return false
	}
	for k, w := range want {
		g, ok := gm[k]
		if !ok || filterString(g) != filterString(w) {
			return false
		}
	}
	return true
}

// filterString is a value as compared by filters: strings as they are,
// objects as JSON text (Karbor matched its JSON columns as text), the rest
// as Python's str() writes them.
func filterString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any, []any:
		data, _ := json.Marshal(v)
		return string(data)
	case nil:
		return "None"
	}
	return pythonStr(v)
}

// sortValue turns a field into what compareValues orders: numbers stay
// numbers, RFC 3339 times become times, nil stays nil, the rest strings.
func sortValue(v any) any {
	switch v := v.(type) {
	case float64, nil:
		return v
	case string:
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t
		}
		return v
	}
	return filterString(v)
}

// compareValues orders two sort values (see sortValue); nil first, then
// by kind: numbers, times, strings.
func compareValues(x, y any) int {
	switch x := x.(type) {
	case nil:
		if y == nil {
			return 0
		}
		return -1
	case float64:
		if y, ok := y.(float64); ok {
			return cmp.Compare(x, y)
		}
	case time.Time:
		if y, ok := y.(time.Time); ok {
			return x.Compare(y)
		}
	case string:
		if y, ok := y.(string); ok {
			return strings.Compare(x, y)
		}
	}
	if y == nil {
		return 1
	}
	return cmp.Compare(kindRank(x), kindRank(y))
}

func kindRank(v any) int {
	switch v.(type) {
	case float64:
		return 1
	case time.Time:
		return 2
	}
	return 3
}
