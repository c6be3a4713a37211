package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/openfaas/faas-provider/types"
)

// errStatus is an error with the HTTP status it answers.
type errStatus struct {
	code int
	msg  string
}

func (e *errStatus) Error() string { return e.msg }

func statusErr(code int, format string, args ...any) error {
	return &errStatus{code: code, msg: fmt.Sprintf(format, args...)}
}

// fail answers err with its status (400 for a plain error).
func fail(w http.ResponseWriter, err error) {
	code := http.StatusBadRequest
	var se *errStatus
	if errors.As(err, &se) {
		code = se.code
	}
	http.Error(w, err.Error(), code)
}

// decode reads a JSON body of at most maxSystemBody bytes into v.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSystemBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return statusErr(http.StatusRequestEntityTooLarge, "request body over %d bytes", tooBig.Limit)
		}
		return statusErr(http.StatusBadRequest, "read request body: %v", err)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return statusErr(http.StatusBadRequest, "request body: %v", err)
	}
	return nil
}

// readSpec reads and checks a FunctionDeployment: a valid service name in
// the provider's namespace, for which the provider has a handler.
func (p *Provider) readSpec(w http.ResponseWriter, r *http.Request) (types.FunctionDeployment, Function, error) {
	var spec types.FunctionDeployment
	if err := decode(w, r, &spec); err != nil {
		return spec, Function{}, err
	}
	if spec.Namespace != "" && spec.Namespace != Namespace {
		return spec, Function{}, statusErr(http.StatusBadRequest,
			"namespace %q not valid: the local provider has only %q", spec.Namespace, Namespace)
	}
	name, ok := baseName(spec.Service)
	if !ok {
		return spec, Function{}, statusErr(http.StatusBadRequest, "service %q is not a valid function name ([-a-zA-Z_0-9.]+)", spec.Service)
	}
	fn, ok := p.known[name]
	if !ok {
		return spec, Function{}, statusErr(http.StatusBadRequest,
			"function %q cannot run here: the local provider runs only the functions it was built with (%s); an image alone is not enough",
			name, strings.Join(p.knownNames(), ", "))
	}
	spec.Service, spec.Namespace = name, Namespace
	if spec.Image == "" {
		spec.Image = Image
	}
	// Own copies: the status must not change with the caller's maps.
	spec.EnvVars = maps.Clone(spec.EnvVars)
	spec.Constraints = slices.Clone(spec.Constraints)
	spec.Secrets = slices.Clone(spec.Secrets)
	if spec.Labels != nil {
		l := maps.Clone(*spec.Labels)
		spec.Labels = &l
	}
	if spec.Annotations != nil {
		a := maps.Clone(*spec.Annotations)
		spec.Annotations = &a
	}
	return spec, fn, nil
}

func (p *Provider) knownNames() []string {
	return slices.Sorted(maps.Keys(p.known))
}

// deployFunction is POST /system/functions: deploy a function the provider
// knows, or redeploy it over its current deployment (counters reset).
func (p *Provider) deployFunction(w http.ResponseWriter, r *http.Request) {
	spec, fn, err := p.readSpec(w, r)
	if err != nil {
		fail(w, err)
		return
	}
	p.mu.Lock()
	_, existed := p.deployed[spec.Service]
	p.deployed[spec.Service] = newDeployment(spec, fn.Handler, time.Now().UTC())
	p.mu.Unlock()
	p.log.Info("function deployed", "function", spec.Service, "image", spec.Image, "redeployed", existed)
	w.WriteHeader(http.StatusAccepted)
}

// updateFunction is PUT /system/functions: replace the deployment of a
// deployed function; 404 if it is not deployed (faas-cli then POSTs).
func (p *Provider) updateFunction(w http.ResponseWriter, r *http.Request) {
	spec, fn, err := p.readSpec(w, r)
	if err != nil {
		fail(w, err)
		return
	}
	p.mu.Lock()
	old, ok := p.deployed[spec.Service]
	if ok {
		p.deployed[spec.Service] = &deployment{spec: spec, handler: fn.Handler, created: old.created,
			replicas: old.replicas, invocations: old.invocations}
	}
	p.mu.Unlock()
	if !ok {
		http.Error(w, fmt.Sprintf("function %q not found: deploy it first", spec.Service), http.StatusNotFound)
		return
	}
	p.log.Info("function updated", "function", spec.Service, "image", spec.Image)
	w.WriteHeader(http.StatusAccepted)
}

// deleteFunction is DELETE /system/functions: the function answers 404
// until it is deployed again. Calls already queued for it fail with 404.
func (p *Provider) deleteFunction(w http.ResponseWriter, r *http.Request) {
	var req types.DeleteFunctionRequest
	if err := decode(w, r, &req); err != nil {
		fail(w, err)
		return
	}
	if !namespaceOK(w, req.Namespace) {
		return
	}
	name, ok := baseName(req.FunctionName)
	if ok {
		p.mu.Lock()
		_, ok = p.deployed[name]
		delete(p.deployed, name)
		p.mu.Unlock()
	}
	if !ok {
		http.Error(w, fmt.Sprintf("function %q not found", req.FunctionName), http.StatusNotFound)
		return
	}
	p.log.Info("function deleted", "function", name)
	w.WriteHeader(http.StatusAccepted)
}

// scaleFunction is POST /system/scale-function/{name}. Replicas are
// bookkeeping here (every call runs in this process); a function scaled to
// zero is scaled back to one by its next call, as OpenFaaS's gateway does.
func (p *Provider) scaleFunction(w http.ResponseWriter, r *http.Request) {
	var req types.ScaleServiceRequest
	if err := decode(w, r, &req); err != nil {
		fail(w, err)
		return
	}
	if !namespaceOK(w, req.Namespace) {
		return
	}
	name := r.PathValue("name")
	if req.ServiceName != "" {
		a, _ := baseName(name)
		b, _ := baseName(req.ServiceName)
		if a != b {
			http.Error(w, fmt.Sprintf("serviceName %q does not match the path's %q", req.ServiceName, name), http.StatusBadRequest)
			return
		}
	}
	d, ok := p.lookup(name)
	if !ok {
		http.Error(w, fmt.Sprintf("function %q not found", name), http.StatusNotFound)
		return
	}
	d.replicas.Store(req.Replicas)
	p.log.Info("function scaled", "function", d.spec.Service, "replicas", req.Replicas)
	w.WriteHeader(http.StatusAccepted)
}
