package faas

import (
	"os"
	"testing"

	"github.com/pouchdp/pouch/tests/pouchtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pouchtest.Cleanup()
	os.Exit(code)
}
