package api

import "net/http"

// Temporary: kept for code written against the old list helpers; use
// listTable with a listSpec instead. Removed once nothing calls them.

func listParams(r *http.Request) (limit int, marker string, asc bool, err error) {
	lq, err := (&API{}).parseListQuery(r, &Caller{}, listSpec{})
	if err != nil {
		return 0, "", false, err
	}
	return lq.limit, lq.marker, lq.sort[0].asc, nil
}

func allTenants(r *http.Request) bool {
	b, _ := boolish(r.URL.Query().Get("all_tenants"))
	return b
}
