package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/pouchdp/pouch/shared/engine"
	"github.com/pouchdp/pouch/shared/protection"
	"github.com/pouchdp/pouch/shared/provider"
	"github.com/pouchdp/pouch/shared/store"
)

// MaxBody is the largest request body accepted.
const MaxBody = 1 << 20

// API serves Karbor's v1 REST API.
type API struct {
	Providers *provider.Set
	Catalog   *protection.Catalog
	Store     *store.Store
	Engine    *engine.Engine
	Log       *slog.Logger
	Now       func() time.Time
}

// Caller is who sent a request.
type Caller struct {
	UserID    string
	ProjectID string
	IsAdmin   bool
	Token     string
}

func (c *Caller) scope() protection.Scope {
	return protection.Scope{ProjectID: c.ProjectID, UserID: c.UserID, AuthToken: c.Token}
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
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.versions)
	route := func(pattern string, h handler) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.Handle(method+" /v1/{project}"+path, a.wrap(h))
	}
	route("GET /providers", a.listProviders)
	route("GET /providers/{provider}", a.showProvider)
	route("GET /providers/{provider}/checkpoints", a.listCheckpoints)
	route("POST /providers/{provider}/checkpoints", a.createCheckpoint)
	route("GET /providers/{provider}/checkpoints/{checkpoint}", a.showCheckpoint)
	route("DELETE /providers/{provider}/checkpoints/{checkpoint}", a.deleteCheckpoint)
	route("GET /plans", a.listPlans)
	route("POST /plans", a.createPlan)
	route("GET /plans/{plan}", a.showPlan)
	route("PUT /plans/{plan}", a.updatePlan)
	route("DELETE /plans/{plan}", a.deletePlan)
	route("GET /restores", a.listRestores)
	route("POST /restores", a.createRestore)
	route("GET /restores/{restore}", a.showRestore)
	route("GET /protectables", a.listProtectables)
	route("GET /protectables/{type}", a.showProtectable)
	route("GET /protectables/{type}/instances", a.listInstances)
	route("GET /protectables/{type}/instances/{id}", a.showInstance)
	route("GET /operation_logs", a.listOperationLogs)
	route("GET /operation_logs/{operation_log}", a.showOperationLog)
	mux.Handle("/", a.wrap(func(r *http.Request, _ *Caller) (any, error) {
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

// wrap authenticates, checks the URL's project, runs h and writes its result.
func (a *API) wrap(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				a.Log.ErrorContext(r.Context(), "api panic", "panic", v, "stack", string(debug.Stack()))
				writeFault(w, http.StatusInternalServerError, "The server has either erred or is incapable of performing the requested operation.")
			}
		}()
		c, err := noAuth(r)
		if err == nil && r.PathValue("project") != "" && r.PathValue("project") != c.ProjectID {
			err = errorf(http.StatusBadRequest, "Malformed request url")
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

// noAuth is Karbor's noauth strategy: the token is "user:project" (or just a
// user, who is then also the project) and the caller is an admin.
func noAuth(r *http.Request) (*Caller, error) {
	tok := r.Header.Get("X-Auth-Token")
	if tok == "" {
		return nil, errorf(http.StatusUnauthorized, "The request you have made requires authentication.")
	}
	user, project, ok := strings.Cut(tok, ":")
	if !ok {
		project = user
	}
	return &Caller{UserID: user, ProjectID: project, IsAdmin: true, Token: tok}, nil
}

// status maps an error to an HTTP status and a message for the caller.
func (a *API) status(ctx context.Context, err error) (int, string) {
	var ae *Error
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		return ae.Code, ae.Message
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
	writeJSON(w, code, map[string]any{name: map[string]any{"code": code, "message": msg}})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads a JSON body wrapped in {"<wrapper>": {...}} into v, refusing
// unknown fields.
func decode(r *http.Request, wrapper string, v any) error {
	var outer map[string]json.RawMessage
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, &outer); err != nil {
		return errorf(http.StatusBadRequest, "Malformed request body: %v", err)
	}
	inner, ok := outer[wrapper]
	if !ok || len(outer) != 1 {
		return errorf(http.StatusBadRequest, "The request body must be an object with the single key %q.", wrapper)
	}
	dec := json.NewDecoder(strings.NewReader(string(inner)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errorf(http.StatusBadRequest, "Invalid input for %s: %v", wrapper, err)
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

// pageParams reads limit and marker.
func pageParams(r *http.Request) (limit int, marker string, err error) {
	q := r.URL.Query()
	limit = 1000
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return 0, "", errorf(http.StatusBadRequest, "limit must be a positive integer, not %q", v)
		}
		limit = min(n, 1000)
	}
	return limit, q.Get("marker"), nil
}

// listParams reads limit, marker and the sort direction of a list call.
func listParams(r *http.Request) (limit int, marker string, asc bool, err error) {
	if limit, marker, err = pageParams(r); err != nil {
		return 0, "", false, err
	}
	asc, err = sortAsc(r)
	return limit, marker, asc, err
}

// sortAsc reads sort / sort_dir: true for ascending.
func sortAsc(r *http.Request) (bool, error) {
	q := r.URL.Query()
	dir := q.Get("sort_dir")
	if s := q.Get("sort"); s != "" {
		if _, d, ok := strings.Cut(strings.Split(s, ",")[0], ":"); ok {
			dir = d
		}
	}
	switch strings.ToLower(dir) {
	case "", "desc":
		return false, nil
	case "asc":
		return true, nil
	}
	return false, errorf(http.StatusBadRequest, "Invalid sort direction %q: use asc or desc.", dir)
}
