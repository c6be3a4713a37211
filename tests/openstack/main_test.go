package openstack_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/pouchdp/pouch/tests/openstacktest"
	"github.com/pouchdp/pouch/tests/pouchtest"
)

// Tests that protect or restore a project's network topology (the network,
// server, 3-tier and R6 tests) copy every network of the shared demo
// project, so they run one at a time; the image, volume and other
// client-scenario tests touch no topology and run in parallel, after them.
func TestMain(m *testing.M) {
	code := m.Run()
	stopKarbor()
	pouchtest.Cleanup()
	if err := openstacktest.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}
