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
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/openfaas/faas-provider/types"

	"github.com/pouchdp/pouch/shared/invoke"
)

const (
	// Namespace is the only namespace of the local provider. Callers may
	// append "."+Namespace to a function name.
	Namespace = "openfaas-fn"
	// Image is reported as the image of a function deployed by New.
	Image = "pouch-local"
	// Orchestration is reported by GET /system/info.
	Orchestration = "pouch-local"
	// ProviderName is reported by GET /system/info.
	ProviderName = "pouch"
)

// Headers of OpenFaaS's gateway and queue worker.
const (
	HeaderCallID      = "X-Call-Id"
	HeaderCallbackURL = "X-Callback-Url"
	HeaderDuration    = "X-Duration-Seconds"
	HeaderStatus      = "X-Function-Status"
	HeaderName        = "X-Function-Name"
)

// validName is faas-provider's NameExpression for a function name.
var validName = regexp.MustCompile(`^[-a-zA-Z_0-9.]+$`)

// maxSystemBody bounds the body of a deploy, update, delete or scale request.
const maxSystemBody = 1 << 20

// Function is one function the provider can run.
type Function struct {
	Name        string
	Handler     http.Handler
	Annotations map[string]string // e.g. topic: cron-function, schedule: "*/5 * * * *"
	Labels      map[string]string
	EnvProcess  string
}

// deployment is one deployed function. spec and handler never change: an
// update replaces the deployment and carries its counters over.
type deployment struct {
	spec        types.FunctionDeployment // Service without the namespace suffix
	handler     http.Handler
	created     time.Time
	replicas    *atomic.Uint64
	invocations *atomic.Int64
}

// Provider serves the OpenFaaS provider API for the functions it was built
// with: it can deploy (bind) them under their names with any image, update,
// scale and delete them, and call them synchronously or through its queue.
// Its methods are safe for concurrent use.
type Provider struct {
	log     *slog.Logger
	known   map[string]Function // what a deployment can bind; read-only after New
	version types.VersionInfo

	mu       sync.RWMutex
	deployed map[string]*deployment

	queueWorkers int
	callbacks    *http.Client
	queueMu      sync.Mutex
	queue        *invoke.Local // asynchronous calls; started by the first one
	closed       bool
}

// Option changes how New builds a Provider.
type Option func(*Provider)

// QueueWorkers sets how many asynchronous calls run at once (default 16).
func QueueWorkers(n int) Option {
	return func(p *Provider) {
		if n > 0 {
			p.queueWorkers = n
		}
	}
}

// CallbackClient sets the client that posts results to X-Callback-Url
// (default: a client with a one-minute timeout).
func CallbackClient(c *http.Client) Option {
	return func(p *Provider) {
		if c != nil {
			p.callbacks = c
		}
	}
}

// New returns a provider that knows functions and has them all deployed.
// It panics on an invalid or duplicate name or a nil handler: those are
// programming errors. A nil log discards. Call Close to stop the workers of
// asynchronous calls, if any ran.
func New(functions []Function, log *slog.Logger, opts ...Option) *Provider {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Provider{
		log:          log,
		known:        make(map[string]Function, len(functions)),
		version:      buildVersion(),
		deployed:     make(map[string]*deployment, len(functions)),
		queueWorkers: 16,
		callbacks:    &http.Client{Timeout: time.Minute},
	}
	for _, o := range opts {
		o(p)
	}
	now := time.Now().UTC()
	for _, f := range functions {
		switch {
		case !validName.MatchString(f.Name):
			panic(fmt.Sprintf("runtime: invalid function name %q (want [-a-zA-Z_0-9.]+)", f.Name))
		case strings.HasSuffix(f.Name, "."+Namespace):
			panic(fmt.Sprintf("runtime: function name %q must not carry the namespace suffix", f.Name))
		case f.Handler == nil:
			panic(fmt.Sprintf("runtime: function %q has a nil handler", f.Name))
		}
		if _, dup := p.known[f.Name]; dup {
			panic(fmt.Sprintf("runtime: function %q given twice", f.Name))
		}
		f.Annotations = maps.Clone(f.Annotations)
		f.Labels = maps.Clone(f.Labels)
		p.known[f.Name] = f
		spec := types.FunctionDeployment{Service: f.Name, Image: Image, Namespace: Namespace, EnvProcess: f.EnvProcess}
		if len(f.Annotations) > 0 {
			a := maps.Clone(f.Annotations)
			spec.Annotations = &a
		}
		if len(f.Labels) > 0 {
			l := maps.Clone(f.Labels)
			spec.Labels = &l
		}
		p.deployed[f.Name] = newDeployment(spec, f.Handler, now)
	}
	return p
}

func newDeployment(spec types.FunctionDeployment, h http.Handler, created time.Time) *deployment {
	d := &deployment{spec: spec, handler: h, created: created, replicas: new(atomic.Uint64), invocations: new(atomic.Int64)}
	d.replicas.Store(1)
	return d
}

// Handler returns the provider's routes on a new ServeMux.
func (p *Provider) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /system/functions", p.listFunctions)
	mux.HandleFunc("POST /system/functions", p.deployFunction)
	mux.HandleFunc("PUT /system/functions", p.updateFunction)
	mux.HandleFunc("DELETE /system/functions", p.deleteFunction)
	mux.HandleFunc("GET /system/function/{name}", p.functionStatus)
	mux.HandleFunc("POST /system/scale-function/{name}", p.scaleFunction)
	mux.HandleFunc("GET /system/namespaces", p.listNamespaces)
	mux.HandleFunc("GET /system/info", p.info)
	mux.HandleFunc("GET /healthz", health) // GET patterns match HEAD too

	mux.HandleFunc("/function/{name}", p.proxy)
	mux.HandleFunc("/function/{name}/{$}", p.proxy)
	mux.HandleFunc("/function/{name}/{path...}", p.proxy)

	mux.HandleFunc("POST /async-function/{name}", p.enqueue)
	mux.HandleFunc("POST /async-function/{name}/{$}", p.enqueue)
	mux.HandleFunc("POST /async-function/{name}/{path...}", p.enqueue)
	return mux
}

// baseName drops the optional namespace suffix of a function name; ok is
// false for a name that is not valid.
func baseName(name string) (string, bool) {
	if !validName.MatchString(name) {
		return "", false
	}
	base, _ := strings.CutSuffix(name, "."+Namespace)
	return base, base != ""
}

// lookup resolves name, with or without the namespace suffix, among the
// deployed functions.
func (p *Provider) lookup(name string) (*deployment, bool) {
	base, ok := baseName(name)
	if !ok {
		return nil, false
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	d, ok := p.deployed[base]
	return d, ok
}

// namespaceOK checks a namespace given in a query or a request body.
func namespaceOK(w http.ResponseWriter, ns string) bool {
	if ns != "" && ns != Namespace {
		http.Error(w, fmt.Sprintf("namespace %q not valid: the local provider has only %q", ns, Namespace), http.StatusBadRequest)
		return false
	}
	return true
}

func (d *deployment) status() types.FunctionStatus {
	s := d.spec
	r := d.replicas.Load()
	st := types.FunctionStatus{
		Name:                   s.Service,
		Image:                  s.Image,
		Namespace:              Namespace,
		EnvProcess:             s.EnvProcess,
		EnvVars:                maps.Clone(s.EnvVars),
		Constraints:            slices.Clone(s.Constraints),
		Secrets:                slices.Clone(s.Secrets),
		ReadOnlyRootFilesystem: s.ReadOnlyRootFilesystem,
		InvocationCount:        float64(d.invocations.Load()),
		Replicas:               r,
		AvailableReplicas:      r,
		CreatedAt:              d.created,
	}
	if s.Annotations != nil && len(*s.Annotations) > 0 {
		a := maps.Clone(*s.Annotations)
		st.Annotations = &a
	}
	if s.Labels != nil && len(*s.Labels) > 0 {
		l := maps.Clone(*s.Labels)
		st.Labels = &l
	}
	if s.Limits != nil {
		l := *s.Limits
		st.Limits = &l
	}
	if s.Requests != nil {
		r := *s.Requests
		st.Requests = &r
	}
	return st
}

func (p *Provider) listFunctions(w http.ResponseWriter, r *http.Request) {
	if !namespaceOK(w, r.URL.Query().Get("namespace")) {
		return
	}
	p.mu.RLock()
	list := make([]types.FunctionStatus, 0, len(p.deployed))
	for _, d := range p.deployed {
		list = append(list, d.status())
	}
	p.mu.RUnlock()
	slices.SortFunc(list, func(a, b types.FunctionStatus) int { return strings.Compare(a.Name, b.Name) })
	p.writeJSON(w, http.StatusOK, list)
}

func (p *Provider) functionStatus(w http.ResponseWriter, r *http.Request) {
	if !namespaceOK(w, r.URL.Query().Get("namespace")) {
		return
	}
	name := r.PathValue("name")
	d, ok := p.lookup(name)
	if !ok {
		http.Error(w, fmt.Sprintf("function %q not found", name), http.StatusNotFound)
		return
	}
	p.writeJSON(w, http.StatusOK, d.status())
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

// proxy is the synchronous call: the function's handler gets the request
// with "/function/{name}" stripped from the path, so it sees "/" or "/{path}".
func (p *Provider) proxy(w http.ResponseWriter, r *http.Request) {
	u := *r.URL
	u.Path = stripFunction(r.URL.Path)
	if r.URL.RawPath != "" {
		u.RawPath = stripFunction(r.URL.RawPath)
	}
	r2 := r.Clone(r.Context())
	r2.URL = &u
	r2.RequestURI = u.RequestURI()
	p.call(w, r2, r.PathValue("name"))
}

// call runs the deployed function name on r, whose path is already the
// function's own. Like OpenFaaS's gateway it gives the call an X-Call-Id
// (unless the caller did) and answers X-Call-Id and X-Duration-Seconds.
func (p *Provider) call(w http.ResponseWriter, r *http.Request, name string) {
	d, ok := p.lookup(name)
	if !ok {
		http.Error(w, fmt.Sprintf("function %q not found", name), http.StatusNotFound)
		return
	}
	if d.replicas.CompareAndSwap(0, 1) {
		p.log.Info("scaled from zero", "function", d.spec.Service)
	}
	d.invocations.Add(1)
	callID := r.Header.Get(HeaderCallID)
	if callID == "" {
		callID = uuid.NewString()
		r.Header.Set(HeaderCallID, callID)
	}
	start := time.Now()
	tw := &timedWriter{ResponseWriter: w, start: start, callID: callID}
	p.log.Debug("invoke function", "function", d.spec.Service, "method", r.Method, "path", r.URL.Path, "call_id", callID)
	d.handler.ServeHTTP(tw, r)
}

// timedWriter sets X-Call-Id and X-Duration-Seconds (the time until the
// response started, as the gateway measures it) before the status goes out.
type timedWriter struct {
	http.ResponseWriter
	start       time.Time
	callID      string
	wroteHeader bool
}

func (t *timedWriter) WriteHeader(code int) {
	if !t.wroteHeader {
		t.wroteHeader = true
		h := t.ResponseWriter.Header()
		h.Set(HeaderCallID, t.callID)
		h.Set(HeaderDuration, seconds(time.Since(t.start)))
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *timedWriter) Write(b []byte) (int, error) {
	if !t.wroteHeader {
		t.WriteHeader(http.StatusOK)
	}
	return t.ResponseWriter.Write(b)
}

// Flush sends what was written so far, for functions that stream.
func (t *timedWriter) Flush() {
	if !t.wroteHeader {
		t.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(t.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection (deadlines).
func (t *timedWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// seconds formats d as OpenFaaS does ("%f" of seconds).
func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 6, 64) }

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
