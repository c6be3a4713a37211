package api

import "net/http"

func (a *API) listVerifications(r *http.Request, c *Caller) (any, error)  { return nil, notYet() }
func (a *API) createVerification(r *http.Request, c *Caller) (any, error) { return nil, notYet() }
func (a *API) showVerification(r *http.Request, c *Caller) (any, error)   { return nil, notYet() }
func (a *API) copyCheckpoints(r *http.Request, c *Caller) (any, error)    { return nil, notYet() }
func (a *API) resetCheckpoint(r *http.Request, c *Caller) (any, error)    { return nil, notYet() }
