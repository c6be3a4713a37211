package faas

import (
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openfaas/go-sdk/stack"

	"github.com/pouchdp/pouch/shared/provider"
	"github.com/pouchdp/pouch/tests/logtest"
	"github.com/pouchdp/pouch/tests/pouchtest"
	"github.com/pouchdp/pouch/tests/redistest"
)

// shrinkwrap lays out the build context of fn under dir/build/<name> as
// faas-cli build --shrinkwrap does (go-sdk's builder.CreateBuildContext):
// the template's files, the handler folder's entries (but build and
// template) in function/, and each of stack.yml's "configuration: copy"
// paths at function/<path>.
func shrinkwrap(t *testing.T, svc *stack.Services, fn stack.Function, dir string) string {
	t.Helper()
	ctx := filepath.Join(dir, "build", fn.Name)
	copyTree(t, filepath.Join(repo, "template", fn.Language), ctx)
	entries, err := os.ReadDir(filepath.Join(repo, fn.Handler))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == "build" || e.Name() == "template" {
			continue
		}
		copyTree(t, filepath.Join(repo, fn.Handler, e.Name()), filepath.Join(ctx, "function", e.Name()))
	}
	for _, p := range svc.StackConfiguration.CopyExtraPaths {
		copyTree(t, filepath.Join(repo, p), filepath.Join(ctx, "function", p))
	}
	return ctx
}

// copyTree copies the file or directory src to dst, keeping modes.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(to, info.Mode().Perm()|0o700)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, info.Mode().Perm())
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
}

// files lists the regular files below dir, relative to it.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// goTool is the go command: on PATH, else the running toolchain's.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// buildContext runs the template's build.sh in ctx, as the Dockerfile
// does, with no network (GOPROXY=off: the module cache only), and returns
// the handler it built.
func buildContext(t *testing.T, ctx string) string {
	t.Helper()
	cmd := exec.Command("sh", "build.sh")
	cmd.Dir = ctx
	env := []string{"PATH=" + filepath.Dir(goTool()) + string(os.PathListSeparator) + os.Getenv("PATH"),
		"GOPROXY=off", "GOFLAGS=", "CGO_ENABLED=0"}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "PATH", "GOPROXY", "GOFLAGS", "GOWORK", "CGO_ENABLED":
		default:
			env = append(env, kv)
		}
	}
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("build.sh in %s: %v\n%s", ctx, err, out)
	}
	t.Logf("%s", strings.TrimSpace(string(out)))
	return filepath.Join(ctx, "handler")
}

// runHandler starts a built handler as the of-watchdog would (upstream_url
// on a free loopback port) with env, and returns its base URL once it
// answers. It is stopped with SIGTERM at cleanup and must exit 0.
func runHandler(t *testing.T, handler string, env ...string) string {
	t.Helper()
	port := pouchtest.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	logs := &logtest.Buffer{}
	cmd := exec.Command(handler)
	cmd.Env = append(os.Environ(), append(env, "upstream_url="+base)...)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("handler exited with %v:\n%s", err, logs.String())
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("handler did not stop on SIGTERM:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			conn.Close()
			return base
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("handler exited early (%v):\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("handler did not listen within 30s:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTemplateBuildsEveryFunction lays out each function's shrinkwrapped
// build context, builds it with the template's build.sh (what its
// Dockerfile runs) and runs the handler as a deployed function: POUCH_*
// settings only, a real redis-server. Each answers as its function.
func TestTemplateBuildsEveryFunction(t *testing.T) {
	svc, tmpl := loadStack(t)
	if tmpl.FProcess != "./handler" {
		t.Errorf("template fprocess %q, want ./handler (the binary build.sh writes)", tmpl.FProcess)
	}
	dir := t.TempDir()
	provDir := filepath.Join(dir, "providers.d")
	if _, err := provider.WriteDefaults(provDir); err != nil {
		t.Fatal(err)
	}
	redis := redistest.Addr(t)
	env := []string{"POUCH_REDIS=" + redis, "POUCH_PROVIDERS_DIR=" + provDir, "POUCH_DATA_DIR=" + filepath.Join(dir, "data"),
		"POUCH_ALLOWED_ROOTS=" + dir, "POUCH_LOG_LEVEL=warn", "POUCH_INVOKER=local"}

	checks := map[string]func(t *testing.T, base string){
		"api": func(t *testing.T, base string) {
			if ids := providerIDs(t, base, "p1"); !slices.Equal(ids, []string{dirProvider, noopProvider}) {
				t.Errorf("providers %v", ids)
			}
		},
		"tick": func(t *testing.T, base string) {
			code, body := call(t, http.MethodPost, base+"/", "", nil)
			if code != http.StatusOK || !strings.Contains(string(body), `"sweep"`) || !strings.Contains(string(body), `"triggers"`) {
				t.Errorf("tick: %d %s", code, body)
			}
		},
		"hook": func(t *testing.T, base string) {
			if code, body := call(t, http.MethodPost, base+"/", "", "{not a task"); code != http.StatusBadRequest {
				t.Errorf("hook with a malformed task: %d %s, want 400", code, body)
			}
			if code, _ := call(t, http.MethodGet, base+"/", "", nil); code != http.StatusMethodNotAllowed {
				t.Errorf("GET hook: %d, want 405", code)
			}
		},
	}
	for _, name := range []string{"api", "hook", "tick"} {
		t.Run(name, func(t *testing.T) {
			ctx := shrinkwrap(t, svc, svc.Functions[name], dir)
			handler := buildContext(t, ctx)
			checks[name](t, runHandler(t, handler, env...))
		})
	}
}

// A handler folder that is not one of ./functions/* is refused by build.sh.
func TestTemplateRefusesForeignHandler(t *testing.T) {
	svc, _ := loadStack(t)
	fn := svc.Functions["hook"]
	fn.Name, fn.Handler = "rogue", "./shared/api" // package api, but not functions/api
	ctx := shrinkwrap(t, svc, fn, t.TempDir())
	cmd := exec.Command("sh", "build.sh")
	cmd.Dir = ctx
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=", "PATH="+filepath.Dir(goTool())+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "is not a file of functions/api") {
		t.Errorf("build.sh = %v:\n%s\nwant a refusal naming functions/api", err, out)
	}
	if _, err := os.Stat(filepath.Join(ctx, "handler")); err == nil {
		t.Error("a handler was built anyway")
	}
}

// Without stack.yml's "configuration: copy" the build says what is missing.
func TestTemplateNeedsTheModule(t *testing.T) {
	svc, _ := loadStack(t)
	svc.StackConfiguration.CopyExtraPaths = nil
	ctx := shrinkwrap(t, svc, svc.Functions["tick"], t.TempDir())
	cmd := exec.Command("sh", "build.sh")
	cmd.Dir = ctx
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "configuration: copy") {
		t.Errorf("build.sh = %v:\n%s\nwant a message about configuration: copy", err, out)
	}
}

// faasCLI is a faas-cli binary: $FAAS_CLI, else faas-cli on PATH.
func faasCLI(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("FAAS_CLI"); p != "" {
		return p
	}
	p, err := exec.LookPath("faas-cli")
	if err != nil {
		t.Skip("faas-cli is not installed (neither apt nor the Go module proxy ship it); set FAAS_CLI to a faas-cli binary to run this test")
	}
	return p
}

// TestFaasCLI runs the real faas-cli on a copy of the project: build
// --shrinkwrap must give the layout the other tests build (and it must
// build), and deploy must deploy stack.yml to pouch serve.
func TestFaasCLI(t *testing.T) {
	cli := faasCLI(t)
	svc, _ := loadStack(t)
	work := t.TempDir()
	for _, p := range append([]string{"stack.yml", "template"}, svc.StackConfiguration.CopyExtraPaths...) {
		copyTree(t, filepath.Join(repo, p), filepath.Join(work, p))
	}
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(cli, args...)
		cmd.Dir = work
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("faas-cli %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	run("build", "--shrinkwrap", "-f", "stack.yml")
	mine := t.TempDir()
	for _, name := range []string{"api", "hook", "tick"} {
		want := files(t, shrinkwrap(t, svc, svc.Functions[name], mine))
		if got := files(t, filepath.Join(work, "build", name)); !slices.Equal(got, want) {
			t.Errorf("%s: faas-cli's context has %d files, the tests' %d", name, len(got), len(want))
		}
	}
	buildContext(t, filepath.Join(work, "build", "hook"))

	s := startServe(t, nil)
	out := run("deploy", "-f", "stack.yml", "--gateway", s.URL)
	for _, name := range []string{"api", "hook", "tick"} {
		if !strings.Contains(out, "Deploying: "+name) {
			t.Errorf("deploy output lacks %s:\n%s", name, out)
		}
	}
	if out := run("describe", "tick", "--gateway", s.URL); !strings.Contains(out, "topic: cron-function") || !strings.Contains(out, "pouch-tick:latest") {
		t.Errorf("describe tick:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(work, ".gitignore")); err == nil {
		t.Error("faas-cli wrote a .gitignore")
	}
}
