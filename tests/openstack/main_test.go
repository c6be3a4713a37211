package openstack_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/pouchdp/pouch/tests/openstacktest"
	"github.com/pouchdp/pouch/tests/pouchtest"
)

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
