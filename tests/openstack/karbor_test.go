package openstack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/endpoints"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/services"

	"github.com/pouchdp/pouch/shared/provider"
	"github.com/pouchdp/pouch/tests/openstacktest"
	"github.com/pouchdp/pouch/tests/pouchtest"
	"github.com/pouchdp/pouch/tests/swifttest"
)

// osInfraSwift is Karbor's "OS Infra Provider" (spec §6.2): the OpenStack
// plugins with a Swift bank, as Karbor's fullstack tests use it.
const osInfraSwift = "cf56bd3e-97a7-4078-b6d5-f36246333fd9"

// karbor is "pouch serve" behind the stack's Keystone, registered in its
// catalog as the data-protect service, so that python-karborclient finds it
// as it finds Karbor. One per test binary; cleanups run in TestMain.
type karbor struct {
	stack *openstacktest.Stack
	srv   *pouchtest.Server
}

var (
	karborOnce     sync.Once
	karborRunning  *karbor
	karborCleanups []func()
	karborMu       sync.Mutex
)

// stopKarbor runs the cleanups of needKarbor (TestMain).
func stopKarbor() {
	karborMu.Lock()
	defer karborMu.Unlock()
	for i := len(karborCleanups) - 1; i >= 0; i-- {
		karborCleanups[i]()
	}
}

func needKarbor(t *testing.T) *karbor {
	t.Helper()
	s := openstacktest.Start(t)
	karborOnce.Do(func() { karborRunning = startKarbor(t, s) })
	if karborRunning == nil {
		t.Fatal("pouch serve behind Keystone did not start (see the first test's log)")
	}
	return karborRunning
}

// startKarbor starts pouch serve with Keystone auth (the stack's admin as
// its service user), the shipped providers plus osInfraSwift on a private
// Swift, and registers it in the catalog.
func startKarbor(t *testing.T, s *openstacktest.Stack) *karbor {
	sw := swifttest.Start(t)
	dir, err := os.MkdirTemp("", "pouch-karbor-")
	if err != nil {
		t.Fatal(err)
	}
	karborMu.Lock()
	karborCleanups = append(karborCleanups, func() { os.RemoveAll(dir) })
	karborMu.Unlock()
	provDir := filepath.Join(dir, "providers.d")
	if _, err := provider.WriteDefaults(provDir); err != nil {
		t.Fatal(err)
	}
	conf := osInfraSwiftConf(sw, "karbor-"+filepath.Base(dir))
	if err := os.WriteFile(filepath.Join(provDir, "os-infra-swift.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := pouchtest.Start(t, []string{"-data-dir", dir, "-providers-dir", provDir, // its own redis-server
		"-auth-strategy", "keystone", "-keystone-url", s.Env["KEYSTONE_URL"], "-keystone-user", s.Env["OS_USERNAME"],
		"-keystone-project", s.Env["OS_PROJECT_NAME"], "-workers", "8"},
		"POUCH_KEYSTONE_PASSWORD="+s.Env["OS_PASSWORD"], "POUCH_OPENSTACK=True",
		"OS_AUTH_URL="+s.Env["OS_AUTH_URL"], "OS_REGION_NAME="+s.Env["OS_REGION_NAME"])
	k := &karbor{stack: s, srv: srv}
	karborMu.Lock()
	karborCleanups = append(karborCleanups, func() { srv.Stop(nil) }) // runs before the directory goes
	karborMu.Unlock()
	k.register(t)
	return k
}

// osInfraSwiftConf is Karbor's OS Infra Provider (osInfraSwift) on a
// container of Swift sw: every OpenStack plugin, short polls.
func osInfraSwiftConf(sw *swifttest.Swift, container string) string {
	return `[provider]
name = OS Infra Provider
description = This provider uses OpenStack's own services (swift, cinder) as storage
id = ` + osInfraSwift + `
plugin = karbor-volume-protection-plugin
plugin = karbor-image-protection-plugin
plugin = karbor-server-protection-plugin
plugin = karbor-network-protection-plugin
plugin = pouch-project-protection-plugin
bank = karbor-swift-bank-plugin
enabled = True

[openstack_client]
auth_url = ${OS_AUTH_URL}
region_name = ${OS_REGION_NAME}

[cinder_backup_protection_plugin]
poll_interval = 2

[image_backup_plugin]
poll_interval = 2

[nova_backup_protection_plugin]
poll_interval = 2

` + sw.ProviderConf(container, "")
}

// register adds the data-protect service and its endpoints to the
// catalog, removed again at the end of the binary.
func (k *karbor) register(t *testing.T) {
	admin := k.stack.Admin(t)
	sc, err := admin.Identity()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	svc, err := services.Create(ctx, sc, services.CreateOpts{Type: "data-protect",
		Extra: map[string]any{"name": "karbor"}}).Extract()
	if err != nil {
		t.Fatalf("register the data-protect service: %v", err)
	}
	karborMu.Lock()
	karborCleanups = append(karborCleanups, func() { services.Delete(context.Background(), sc, svc.ID) })
	karborMu.Unlock()
	for _, iface := range []gophercloud.Availability{gophercloud.AvailabilityPublic, gophercloud.AvailabilityInternal,
		gophercloud.AvailabilityAdmin} {
		_, err := endpoints.Create(ctx, sc, endpoints.CreateOpts{Availability: iface, ServiceID: svc.ID,
			Region: k.stack.Env["OS_REGION_NAME"], URL: k.srv.URL + "/v1/%(project_id)s"}).Extract()
		if err != nil {
			t.Fatalf("register the data-protect endpoint: %v", err)
		}
	}
}

// cliEnv is the demo user's OS_* environment, and nothing else of the
// kind, for the clients.
func (k *karbor) cliEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OS_") && !strings.HasPrefix(kv, "KARBOR_") {
			env = append(env, kv)
		}
	}
	for key, v := range k.stack.ProviderEnv() {
		env = append(env, key+"="+v)
	}
	return env
}

// run runs a client command as the demo user and returns its stdout; a
// failure fails t with everything the command said.
func (k *karbor) run(t *testing.T, argv ...string) string {
	t.Helper()
	out, err := k.exec(t, argv...)
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return out
}

func (k *karbor) exec(t *testing.T, argv ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = k.cliEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t.Logf("$ %s", strings.Join(argv, " "))
	err := cmd.Run()
	if err != nil {
		return stdout.String() + "\n--- stderr\n" + stderr.String(), err
	}
	return stdout.String(), nil
}

// osc runs "openstack data protection <args> -f json" and decodes the
// answer into out.
func (k *karbor) osc(t *testing.T, out any, args ...string) {
	t.Helper()
	argv := append([]string{"openstack", "data", "protection"}, args...)
	raw := k.run(t, append(argv, "-f", "json")...)
	if err := json.Unmarshal([]byte(raw), out); err != nil {
		t.Fatalf("%s: not JSON: %v\n%s", strings.Join(argv, " "), err, raw)
	}
}

// waitCheckpoint polls "checkpoint show" until the status is one of final.
func (k *karbor) waitCheckpoint(t *testing.T, provider, id string, limit time.Duration, final ...string) map[string]any {
	t.Helper()
	var cp map[string]any
	pouchtest.WaitFor(t, "checkpoint "+id, limit, func() (string, bool) {
		k.osc(t, &cp, "checkpoint", "show", provider, id)
		st := fmt.Sprint(cp["status"])
		for _, f := range final {
			if st == f {
				return st, true
			}
		}
		return st, false
	})
	return cp
}

// planCreate makes a plan with the client: resources as "id=type=name"
// items, parameters as JSON (nil: none). It returns the plan id.
func (k *karbor) planCreate(t *testing.T, provider string, resources []string, params map[string]any) string {
	t.Helper()
	args := []string{"plan", "create", t.Name(), provider, strings.Join(resources, ",")}
	if params != nil {
		data, err := json.Marshal(params)
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, "--parameters-json", string(data))
	}
	var plan map[string]any
	k.osc(t, &plan, args...)
	return fmt.Sprint(plan["id"])
}

// protect makes a checkpoint of plan with the client and waits until it is
// available (failing t if it ends otherwise).
func (k *karbor) protect(t *testing.T, provider, plan string) string {
	t.Helper()
	var cp map[string]any
	k.osc(t, &cp, "checkpoint", "create", provider, plan)
	id := fmt.Sprint(cp["id"])
	if got := k.waitCheckpoint(t, provider, id, 15*time.Minute, "available", "error"); got["status"] != "available" {
		t.Fatalf("checkpoint %s ended %v", id, got)
	}
	return id
}

// restore restores cp with the client, waits for the end and returns the
// restore's resources_status; a restore that fails fails t.
func (k *karbor) restore(t *testing.T, provider, cp string, params map[string]any) map[string]string {
	t.Helper()
	args := []string{"restore", "create", provider, cp}
	if params != nil {
		data, _ := json.Marshal(params)
		args = append(args, "--parameters-json", string(data))
	}
	var rs map[string]any
	k.osc(t, &rs, args...)
	id := fmt.Sprint(rs["id"])
	pouchtest.WaitFor(t, "restore "+id, 15*time.Minute, func() (string, bool) {
		k.osc(t, &rs, "restore", "show", id)
		st := fmt.Sprint(rs["status"])
		return st, st == "success" || st == "fail"
	})
	status := map[string]string{}
	if err := decodeField(rs["resources_status"], &status); err != nil {
		t.Fatalf("restore %s: resources_status: %v", id, err)
	}
	if rs["status"] != "success" {
		t.Fatalf("restore %s: %v", id, rs)
	}
	return status
}

// decodeField reads a field the client prints either as JSON or as a JSON
// text.
func decodeField(v any, out any) error {
	data, ok := v.(string)
	if !ok {
		raw, err := json.Marshal(v)
		if err != nil {
			return err
		}
		data = string(raw)
	}
	return json.Unmarshal([]byte(data), out)
}
