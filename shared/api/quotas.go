package api

import "net/http"

func (a *API) listServices(r *http.Request, c *Caller) (any, error)      { return nil, notYet() }
func (a *API) updateService(r *http.Request, c *Caller) (any, error)     { return nil, notYet() }
func (a *API) showQuota(r *http.Request, c *Caller) (any, error)         { return nil, notYet() }
func (a *API) showQuotaDetail(r *http.Request, c *Caller) (any, error)   { return nil, notYet() }
func (a *API) showQuotaDefaults(r *http.Request, c *Caller) (any, error) { return nil, notYet() }
func (a *API) updateQuota(r *http.Request, c *Caller) (any, error)       { return nil, notYet() }
func (a *API) deleteQuota(r *http.Request, c *Caller) (any, error)       { return nil, notYet() }
func (a *API) showQuotaClass(r *http.Request, c *Caller) (any, error)    { return nil, notYet() }
func (a *API) updateQuotaClass(r *http.Request, c *Caller) (any, error)  { return nil, notYet() }
