package swift_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pouchdp/pouch/bank"
	"github.com/pouchdp/pouch/bank/swift"
	"github.com/pouchdp/pouch/tests/swifttest"
)

// TestUnavailable: with Swift gone (its proxy's port now refuses), every
// request fails after its retries with bank.ErrUnavailable, which the API
// answers with 503; nothing hangs.
func TestUnavailable(t *testing.T) {
	s := swifttest.Start(t)
	cfg := s.Config()
	cfg.Attempts, cfg.RetryBase = 3, 10*time.Millisecond
	b := s.Bank(t, cfg)
	if err := b.Put(t.Context(), "/k", strings.NewReader("v")); err != nil {
		t.Fatal(err)
	}
	// A proxy that accepts and hangs up: every request breaks.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	cfg.AuthURL = "http://" + ln.Addr().String() + "/auth/v1.0"
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	_, err = swift.New(ctx, cfg)
	if !errors.Is(err, bank.ErrUnavailable) {
		t.Fatalf("New against a broken proxy: %v, want ErrUnavailable", err)
	}
}
