package swift_test

import (
	"testing"

	"github.com/pouchdp/pouch/bank"
	"github.com/pouchdp/pouch/bank/banktest"
	"github.com/pouchdp/pouch/tests/swifttest"
)

// TestConformance runs the bank conformance suite against a real Swift, with
// 1 MiB segments so that the large-stream case is a static large object.
func TestConformance(t *testing.T) {
	s := swifttest.Start(t)
	banktest.Run(t, func(t *testing.T) bank.Bank {
		cfg := s.Config()
		cfg.SegmentSize = 1 << 20
		return s.Bank(t, cfg)
	})
}
