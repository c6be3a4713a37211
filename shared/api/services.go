package api

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/pouchdp/pouch/shared/store"
)

// Binaries of Pouch's functions as os-services shows them. Only the
// operation engine (tick) may be disabled, as in Karbor.
const (
	BinaryAPI  = "pouch-api"
	BinaryHook = "pouch-hook"
	BinaryTick = "pouch-tick"
)

// serviceDownAfter: a service whose last heartbeat is older is "down".
const serviceDownAfter = 60 * time.Second

func (a *API) serviceView(s *store.Service) map[string]any {
	status, state := "enabled", "up"
	if s.Disabled {
		status = "disabled"
	}
	if a.Now().Sub(s.UpdatedAt) > serviceDownAfter {
		state = "down"
	}
	return map[string]any{"id": s.ID, "binary": s.Binary, "host": s.Host, "status": status, "state": state,
		"updated_at": karborTime(&s.UpdatedAt), "disabled_reason": s.DisabledReason}
}

func (a *API) listServices(r *http.Request, c *Caller) (any, error) {
	all, err := a.Services.List(r.Context())
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	out := []any{}
	for _, s := range all {
		if h := q.Get("host"); h != "" && h != s.Host {
			continue
		}
		if b := q.Get("binary"); b != "" && b != s.Binary {
			continue
		}
		out = append(out, a.serviceView(s))
	}
	return map[string]any{"services": out}, nil
}

type serviceBody struct {
	Status         string  `json:"status"`
	DisabledReason *string `json:"disabled_reason"`
}

// updateService enables or disables the operation engine (the body is flat,
// as Karbor's).
func (a *API) updateService(r *http.Request, c *Caller) (any, error) {
	id, err := strconv.Atoi(r.PathValue("service"))
	if err != nil || id <= 0 {
		return nil, errorf(http.StatusBadRequest, "Invalid service id %q.", r.PathValue("service"))
	}
	var b serviceBody
	if err := decode(r, "service_update", "", &b); err != nil {
		return nil, err
	}
	if !slices.Contains([]string{"enabled", "disabled"}, b.Status) {
		return nil, errorf(http.StatusBadRequest, "Invalid status %q: use enabled or disabled.", b.Status)
	}
	if b.Status == "enabled" && b.DisabledReason != nil {
		return nil, errorf(http.StatusBadRequest, "A disabled_reason is only allowed when disabling a service.")
	}
	s, err := a.Services.SetDisabled(r.Context(), id, b.Status == "disabled", b.DisabledReason, func(s *store.Service) error {
		if s.Binary != BinaryTick {
			return errorf(http.StatusBadRequest, "Only the %s service can be updated, not %s.", BinaryTick, s.Binary)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"service": a.serviceView(s)}, nil
}
