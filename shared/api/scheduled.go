package api

import "net/http"

// Scheduled operations (spec §2.10). PLACEHOLDER: being written.

func (a *API) listScheduledOperations(r *http.Request, c *Caller) (any, error) {
	return nil, notYet()
}
func (a *API) createScheduledOperation(r *http.Request, c *Caller) (any, error) {
	return nil, notYet()
}
func (a *API) showScheduledOperation(r *http.Request, c *Caller) (any, error) {
	return nil, notYet()
}
func (a *API) deleteScheduledOperation(r *http.Request, c *Caller) (any, error) {
	return nil, notYet()
}
