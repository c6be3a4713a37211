package api

import "net/http"

// Triggers (spec §2.9). PLACEHOLDER: being written.

func (a *API) listTriggers(r *http.Request, c *Caller) (any, error)  { return nil, notYet() }
func (a *API) createTrigger(r *http.Request, c *Caller) (any, error) { return nil, notYet() }
func (a *API) showTrigger(r *http.Request, c *Caller) (any, error)   { return nil, notYet() }
func (a *API) updateTrigger(r *http.Request, c *Caller) (any, error) { return nil, notYet() }
func (a *API) deleteTrigger(r *http.Request, c *Caller) (any, error) { return nil, notYet() }

func notYet() error { return errorf(http.StatusNotImplemented, "Not implemented yet.") }
