package runtime

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/openfaas/faas-provider/types"
)

const (
	// Namespace is the only namespace of the local provider. Callers may
	// append "."+Namespace to a function name.
	Namespace = "openfaas-fn"
	// Image is reported as every function's image.
	Image = "pouch-local"
	// Orchestration is reported by GET /system/info.
	Orchestration = "pouch-local"
	// ProviderName is reported by GET /system/info.
	ProviderName = "pouch"
)

// validName is faas-provider's NameExpression for a function name.
var validName = regexp.MustCompile(`^[-a-zA-Z_0-9.]+$`)

// Function is one function served by the provider.
type Function struct {
	Name        string
	Handler     http.Handler
	Annotations map[string]string // e.g. topic: cron-function, schedule: "*/5 * * * *"
	Labels      map[string]string
	EnvProcess  string
}

type entry struct {
	fn          Function
	invocations atomic.Int64
}

// Provider serves a fixed set of functions. Its methods are safe for
// concurrent use.
type Provider struct {
	log     *slog.Logger
	funcs   map[string]*entry // read-only after New
	names   []string          // sorted
	created time.Time
	version types.VersionInfo
}

// New returns a provider for functions. It panics on an invalid or duplicate
// name or a nil handler: those are programming errors. A nil log discards.
func New(functions []Function, log *slog.Logger) *Provider {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Provider{
		log:     log,
		funcs:   make(map[string]*entry, len(functions)),
		created: time.Now().UTC(),
		version: buildVersion(),
	}
	for _, f := range functions {
		switch {
		case !validName.MatchString(f.Name):
			panic(fmt.Sprintf("runtime: invalid function name %q (want [-a-zA-Z_0-9.]+)", f.Name))
		case strings.HasSuffix(f.Name, "."+Namespace):
			panic(fmt.Sprintf("runtime: function name %q must not carry the namespace suffix", f.Name))
		case f.Handler == nil:
			panic(fmt.Sprintf("runtime: function %q has a nil handler", f.Name))
		}
		if _, dup := p.funcs[f.Name]; dup {
			panic(fmt.Sprintf("runtime: function %q given twice", f.Name))
		}
		f.Annotations = maps.Clone(f.Annotations)
		f.Labels = maps.Clone(f.Labels)
		p.funcs[f.Name] = &entry{fn: f}
		p.names = append(p.names, f.Name)
	}
	slices.Sort(p.names)
	return p
}

// Handler returns the provider's routes on a new ServeMux.
func (p *Provider) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /system/functions", p.listFunctions)
	mux.HandleFunc("GET /system/function/{name}", p.functionStatus)
	mux.HandleFunc("GET /system/namespaces", p.listNamespaces)
	mux.HandleFunc("GET /system/info", p.info)
	mux.HandleFunc("GET /healthz", health) // GET patterns match HEAD too

	mux.HandleFunc("POST /system/functions", notImplemented("deploying a function"))
	mux.HandleFunc("PUT /system/functions", notImplemented("updating a function"))
	mux.HandleFunc("DELETE /system/functions", notImplemented("deleting a function"))
	mux.HandleFunc("POST /system/scale-function/{name}", notImplemented("scaling a function"))

	mux.HandleFunc("/function/{name}", p.proxy)
	mux.HandleFunc("/function/{name}/{$}", p.proxy)
	mux.HandleFunc("/function/{name}/{path...}", p.proxy)
	return mux
}

// lookup resolves name, with or without the namespace suffix.
func (p *Provider) lookup(name string) (*entry, bool) {
	if !validName.MatchString(name) {
		return nil, false
	}
	if e, ok := p.funcs[name]; ok {
		return e, true
	}
	if base, ok := strings.CutSuffix(name, "."+Namespace); ok {
		e, ok := p.funcs[base]
		return e, ok
	}
	return nil, false
}

// namespaceOK checks the optional ?namespace= of the system routes.
func namespaceOK(w http.ResponseWriter, r *http.Request) bool {
	if ns := r.URL.Query().Get("namespace"); ns != "" && ns != Namespace {
		http.Error(w, fmt.Sprintf("namespace %q not valid: the local provider has only %q", ns, Namespace), http.StatusBadRequest)
		return false
	}
	return true
}

func (p *Provider) status(e *entry) types.FunctionStatus {
	s := types.FunctionStatus{
		Name:              e.fn.Name,
		Image:             Image,
		Namespace:         Namespace,
		EnvProcess:        e.fn.EnvProcess,
		InvocationCount:   float64(e.invocations.Load()),
		Replicas:          1,
		AvailableReplicas: 1,
		CreatedAt:         p.created,
	}
	if len(e.fn.Annotations) > 0 {
		a := maps.Clone(e.fn.Annotations)
		s.Annotations = &a
	}
	if len(e.fn.Labels) > 0 {
		l := maps.Clone(e.fn.Labels)
		s.Labels = &l
	}
	return s
}

func (p *Provider) listFunctions(w http.ResponseWriter, r *http.Request) {
	if !namespaceOK(w, r) {
		return
	}
	list := make([]types.FunctionStatus, 0, len(p.names))
	for _, name := range p.names {
		list = append(list, p.status(p.funcs[name]))
	}
	p.writeJSON(w, http.StatusOK, list)
}

func (p *Provider) functionStatus(w http.ResponseWriter, r *http.Request) {
	if !namespaceOK(w, r) {
		return
	}
	name := r.PathValue("name")
	e, ok := p.lookup(name)
	if !ok {
		http.Error(w, fmt.Sprintf("function %q not found", name), http.StatusNotFound)
		return
	}
	p.writeJSON(w, http.StatusOK, p.status(e))
}

func (p *Provider) listNamespaces(w http.ResponseWriter, _ *http.Request) {
	p.writeJSON(w, http.StatusOK, []string{Namespace})
}

func (p *Provider) info(w http.ResponseWriter, _ *http.Request) {
	v := p.version
	p.writeJSON(w, http.StatusOK, types.ProviderInfo{
		Name:          ProviderName,
		Version:       &v,
		Orchestration: Orchestration,
	})
}

func health(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("OK"))
}

func notImplemented(what string) http.HandlerFunc {
	body, _ := json.Marshal(map[string]string{
		"error": what + " is not implemented by the local pouch provider yet",
	})
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotImplemented)
		_, _ = w.Write(append(body, '\n'))
	}
}

// proxy calls the function's handler with "/function/{name}" stripped from
// the path, so the function sees "/" or "/{path}".
func (p *Provider) proxy(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	e, ok := p.lookup(name)
	if !ok {
		http.Error(w, fmt.Sprintf("function %q not found", name), http.StatusNotFound)
		return
	}
	e.invocations.Add(1)

	u := *r.URL
	u.Path = stripFunction(r.URL.Path)
	if r.URL.RawPath != "" {
		u.RawPath = stripFunction(r.URL.RawPath)
	}
	r2 := new(http.Request)
	*r2 = *r
	r2.URL = &u
	r2.RequestURI = u.RequestURI()
	p.log.Debug("invoke function", "function", e.fn.Name, "method", r.Method, "path", u.Path)
	e.fn.Handler.ServeHTTP(w, r2)
}

// stripFunction turns "/function/NAME/rest" into "/rest" and "/function/NAME"
// into "/". It works on the decoded and on the escaped form of a path alike,
// since a valid NAME has no character that needs escaping and no slash.
func stripFunction(path string) string {
	rest := strings.TrimPrefix(path, "/function/")
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[i:]
	}
	return "/"
}

func (p *Provider) writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		p.log.Error("encode response", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// buildVersion reads the version and VCS revision the binary was built with.
func buildVersion() types.VersionInfo {
	v := types.VersionInfo{Release: "(devel)", SHA: "unknown"}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if bi.Main.Version != "" {
		v.Release = bi.Main.Version
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && s.Value != "" {
			v.SHA = s.Value
		}
	}
	return v
}
