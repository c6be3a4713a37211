package api

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/pouchdp/pouch/bank"
	"github.com/pouchdp/pouch/shared/auth"
	"github.com/pouchdp/pouch/shared/engine"
	"github.com/pouchdp/pouch/shared/policy"
	"github.com/pouchdp/pouch/shared/protection"
	"github.com/pouchdp/pouch/shared/provider"
	"github.com/pouchdp/pouch/shared/schedule"
	"github.com/pouchdp/pouch/shared/scheduler"
	"github.com/pouchdp/pouch/shared/store"
)

// MaxBody is the largest request body accepted.
const MaxBody = 1 << 20

// Authenticator tells who sent a request (auth.NoAuth, auth.Keystone).
type Authenticator interface {
	Authenticate(ctx context.Context, r *http.Request) (*auth.Identity, error)
}

// Policy decides whether an identity may apply a rule to a target (keys
// project_id and user_id).
type Policy interface {
	Allowed(rule string, id *auth.Identity, target map[string]string) bool
}

// Delegator makes and drops the credential a scheduled operation acts with:
// a Keystone trust from its creator to Pouch (auth.Keystone); none with
// noauth.
type Delegator interface {
	CreateTrust(ctx context.Context, id *auth.Identity) (string, error)
	DeleteTrust(ctx context.Context, token, trustID string) error
}

// API serves Karbor's v1 REST API.
type API struct {
	Providers *provider.Set
	Catalog   *protection.Catalog
	Store     *store.Store
	Engine    *engine.Engine
	Quotas    *store.Quotas
	Services  *store.Services
	Schedule  schedule.Config // bounds of trigger properties (zero: Karbor's defaults)
	// Scheduler keeps triggers' firings (nil: triggers are stored, never fired).
	Scheduler *scheduler.Scheduler
	Host      string        // this process's host, for os-services
	Auth      Authenticator // nil: auth.NoAuth
	Delegator Delegator     // nil: scheduled operations act as their project
	Policy    Policy        // nil: Karbor's defaults
	Log       *slog.Logger
	Now       func() time.Time
}

// Caller is who sent a request.
type Caller = auth.Identity

// scope is who calls, for protectables and operations. Only a Keystone
// token (one that expires) is passed on: noauth's "user:project" is not a
// credential any cloud takes.
func scope(c *Caller) protection.Scope {
	s := protection.Scope{ProjectID: c.ProjectID, UserID: c.UserID}
	if !c.ExpiresAt.IsZero() {
		s.AuthToken = c.Token
	}
	return s
}

// Error is an API error with its HTTP status.
type Error struct {
	Code    int
	Message string
}

func (e *Error) Error() string { return e.Message }

func errorf(code int, format string, args ...any) error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// handler serves one route: it returns the body to send with 200 (nil: an
// empty body) or an error.
type handler func(r *http.Request, c *Caller) (any, error)

// Handler returns the HTTP handler of the whole API.
func (a *API) Handler() http.Handler {
	if a.Now == nil {
		a.Now = time.Now
	}
	if a.Auth == nil {
		a.Auth = auth.NoAuth{}
	}
	if a.Policy == nil {
		a.Policy, _ = policy.New("")
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.versions)
	route := func(pattern, rule string, h handler) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.Handle(method+" /v1/{project}"+path, a.wrap(rule, h))
	}
	route("GET /providers", "provider:get_all", a.listProviders)
	route("GET /providers/{provider}", "provider:get", a.showProvider)
	route("GET /providers/{provider}/checkpoints", "provider:checkpoint_get_all", a.listCheckpoints)
	route("POST /providers/{provider}/checkpoints", "provider:checkpoint_create", a.createCheckpoint)
	route("POST /providers/{provider}/checkpoints/action", "copy:create", a.copyCheckpoints)
	route("GET /providers/{provider}/checkpoints/{checkpoint}", "provider:checkpoint_get", a.showCheckpoint)
	route("PUT /providers/{provider}/checkpoints/{checkpoint}", "provider:checkpoint_update", a.resetCheckpoint)
	route("DELETE /providers/{provider}/checkpoints/{checkpoint}", "provider:checkpoint_delete", a.deleteCheckpoint)
	route("GET /plans", "plan:get_all", a.listPlans)
	route("POST /plans", "plan:create", a.createPlan)
	route("GET /plans/{plan}", "plan:get", a.showPlan)
	route("PUT /plans/{plan}", "plan:update", a.updatePlan)
	route("DELETE /plans/{plan}", "plan:delete", a.deletePlan)
	route("GET /restores", "restore:get_all", a.listRestores)
	route("POST /restores", "restore:create", a.createRestore)
	route("GET /restores/{restore}", "restore:get", a.showRestore)
	route("GET /verifications", "verification:get_all", a.listVerifications)
	route("POST /verifications", "verification:create", a.createVerification)
	route("GET /verifications/{verification}", "verification:get", a.showVerification)
	route("GET /protectables", "protectable:get_all", a.listProtectables)
	route("GET /protectables/{type}", "protectable:get", a.showProtectable)
	route("GET /protectables/{type}/instances", "protectable:instance_get_all", a.listInstances)
	route("GET /protectables/{type}/instances/{id}", "protectable:instance_get", a.showInstance)
	route("GET /triggers", "trigger:list", a.listTriggers)
	route("POST /triggers", "trigger:create", a.createTrigger)
	route("GET /triggers/{trigger}", "trigger:get", a.showTrigger)
	route("PUT /triggers/{trigger}", "trigger:update", a.updateTrigger)
	route("DELETE /triggers/{trigger}", "trigger:delete", a.deleteTrigger)
	route("GET /scheduled_operations", "scheduled_operation:list", a.listScheduledOperations)
	route("POST /scheduled_operations", "scheduled_operation:create", a.createScheduledOperation)
	route("GET /scheduled_operations/{scheduled_operation}", "scheduled_operation:get", a.showScheduledOperation)
	route("DELETE /scheduled_operations/{scheduled_operation}", "scheduled_operation:delete", a.deleteScheduledOperation)
	route("GET /operation_logs", "operation_log:list", a.listOperationLogs)
	route("GET /operation_logs/{operation_log}", "operation_log:get", a.showOperationLog)
	route("GET /os-services", "service:get_all", a.listServices)
	route("PUT /os-services/{service}", "service:update", a.updateService)
	route("GET /quotas/{quota_project}", "quota:get", a.showQuota)
	route("GET /quotas/{quota_project}/detail", "quota:get", a.showQuotaDetail)
	route("GET /quotas/{quota_project}/defaults", "quota:get_default", a.showQuotaDefaults)
	route("PUT /quotas/{quota_project}", "quota:update", a.updateQuota)
	route("DELETE /quotas/{quota_project}", "quota:delete", a.deleteQuota)
	route("GET /quota_classes/{class}", "quota_class:get", a.showQuotaClass)
	route("PUT /quota_classes/{class}", "quota_class:update", a.updateQuotaClass)
	mux.Handle("/", a.wrap("", func(r *http.Request, _ *Caller) (any, error) {
		return nil, errorf(http.StatusNotFound, "The resource could not be found.")
	}))
	return a.logged(mux)
}

func (a *API) versions(w http.ResponseWriter, r *http.Request) {
	href := "http://" + r.Host + "/v1/"
	writeJSON(w, http.StatusMultipleChoices, map[string]any{"versions": []any{
		map[string]any{"id": "v1.0", "status": "CURRENT", "links": []any{map[string]any{"rel": "self", "href": href}}},
	}})
}

type ruleKey struct{}

// allowed applies the route's policy rule to a target project: the caller's
// own for lists and creates (checked by wrap), an object's for the rest.
func (a *API) allowed(r *http.Request, c *Caller, project string) bool {
	rule, _ := r.Context().Value(ruleKey{}).(string)
	if rule == "" {
		return true
	}
	return a.Policy.Allowed(rule, c, map[string]string{"project_id": project, "user_id": c.UserID})
}

// wrap authenticates, checks the URL's project and the route's policy rule,
// runs h and writes its result.
func (a *API) wrap(rule string, h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				a.Log.ErrorContext(r.Context(), "api panic", "panic", v, "stack", string(debug.Stack()))
				writeFault(w, http.StatusInternalServerError, "The server has either erred or is incapable of performing the requested operation.")
			}
		}()
		r = r.WithContext(context.WithValue(r.Context(), ruleKey{}, rule))
		c, err := a.Auth.Authenticate(r.Context(), r)
		if err == nil && !validProjectID(c.ProjectID) {
			err = fmt.Errorf("%w: the token's project %q is not a valid project id", auth.ErrUnauthorized, c.ProjectID)
		}
		if err == nil && r.PathValue("project") != "" && r.PathValue("project") != c.ProjectID {
			err = errorf(http.StatusBadRequest, "Malformed request url")
		}
		if err == nil && !a.allowed(r, c, c.ProjectID) {
			err = errorf(http.StatusForbidden, "Policy doesn't allow %s to be performed.", rule)
		}
		var body any
		if err == nil {
			r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
			body, err = h(r, c)
		}
		if err != nil {
			code, msg := a.status(r.Context(), err)
			writeFault(w, code, msg)
			return
		}
		if body == nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			return
		}
		writeJSON(w, http.StatusOK, body)
	})
}

// status maps an error to an HTTP status and a message for the caller.
func (a *API) status(ctx context.Context, err error) (int, string) {
	var ae *Error
	var mbe *http.MaxBytesError
	var oq *store.ErrOverQuota
	switch {
	case errors.As(err, &ae):
		return ae.Code, ae.Message
	case errors.Is(err, auth.ErrUnauthorized):
		return http.StatusUnauthorized, "The request you have made requires authentication."
	case errors.Is(err, auth.ErrUnavailable):
		a.Log.ErrorContext(ctx, "identity service unavailable", "err", err)
		return http.StatusServiceUnavailable, "The identity service is unavailable; try again later."
	case errors.Is(err, bank.ErrUnavailable):
		a.Log.ErrorContext(ctx, "bank unavailable", "err", err)
		return http.StatusServiceUnavailable, "The provider's bank is unavailable; try again later."
	case errors.As(err, &oq):
		return http.StatusRequestEntityTooLarge, oq.Error()
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("Request body is larger than %d bytes.", MaxBody)
	case errors.Is(err, engine.ErrInvalid):
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, engine.ErrNotFound), errors.Is(err, store.ErrNotFound), errors.Is(err, provider.ErrNotFound):
		return http.StatusNotFound, err.Error()
	case errors.Is(err, engine.ErrConflict):
		return http.StatusConflict, err.Error()
	case errors.Is(err, engine.ErrForbidden):
		return http.StatusForbidden, err.Error()
	}
	a.Log.ErrorContext(ctx, "api error", "err", err)
	return http.StatusInternalServerError, "The server has either erred or is incapable of performing the requested operation."
}

var faultNames = map[int]string{
	400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound", 405: "badMethod",
	409: "conflictingRequest", 413: "overLimit", 415: "badMediaType", 501: "notImplemented", 503: "serviceUnavailable",
}

func writeFault(w http.ResponseWriter, code int, msg string) {
	name, ok := faultNames[code]
	if !ok {
		name = "computeFault"
	}
	fault := map[string]any{"code": code, "message": msg}
	if code == http.StatusRequestEntityTooLarge {
		// Karbor's overLimit: the client may retry at once (after freeing quota).
		fault["retryAfter"] = "0"
		w.Header().Set("Retry-After", "0")
	}
	writeJSON(w, code, map[string]any{name: fault})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads a JSON request body, checks it against the JSON schema named
// schema (schemas/<schema>.json) and decodes the value under the top-level
// key wrapper (the whole body if wrapper is "") into v.
func decode(r *http.Request, schema, wrapper string, v any) error {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if err := validate(schema, data); err != nil {
		return err
	}
	inner := json.RawMessage(data)
	if wrapper != "" {
		var outer map[string]json.RawMessage
		if err := json.Unmarshal(data, &outer); err != nil {
			return errorf(http.StatusBadRequest, "Malformed request body: %v", err)
		}
		var ok bool
		if inner, ok = outer[wrapper]; !ok || len(outer) != 1 {
			return errorf(http.StatusBadRequest, "The request body must be an object with the single key %q.", wrapper)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(inner))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errorf(http.StatusBadRequest, "Invalid input for %s: %v", cmp.Or(wrapper, schema), err)
	}
	return nil
}

// uuidParam reads a path value that must be a UUID (dashed or 32 hex).
func uuidParam(r *http.Request, name string) (string, error) {
	v := r.PathValue(name)
	u, err := uuid.Parse(v)
	if err != nil {
		return "", errorf(http.StatusBadRequest, "Invalid %s id %q: not a UUID.", name, v)
	}
	return u.String(), nil
}

// logged logs every request with log/slog and sets a request id.
func (a *API) logged(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := "req-" + uuid.NewString()
		w.Header().Set("X-Openstack-Request-Id", id)
		w.Header().Set("X-Compute-Request-Id", id)
		if a.Services != nil {
			if err := a.Services.Beat(r.Context(), BinaryAPI, a.Host); err != nil {
				a.Log.WarnContext(r.Context(), "heartbeat not recorded", "err", err)
			}
		}
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		start := time.Now()
		h.ServeHTTP(rec, r)
		a.Log.InfoContext(r.Context(), "request", "id", id, "method", r.Method, "path", r.URL.Path,
			"status", rec.code, "took", time.Since(start))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}
