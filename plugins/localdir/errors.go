package localdir

import (
	"context"
	"errors"
	"net"
	"syscall"

	"github.com/pouchdp/pouch/shared/protection"
)

// transientIf marks a bank (or status reporter) error as transient when it
// looks like one worth retrying: a deadline, a network timeout, a refused or
// reset connection. Everything else (a missing object, a bad key) is
// returned as it is, permanent.
func transientIf(err error) error {
	if err == nil || protection.IsTransient(err) {
		return err
	}
	if looksTransient(err) {
		return protection.Transient(err)
	}
	return err
}

func looksTransient(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	for _, errno := range []error{syscall.ECONNRESET, syscall.ECONNREFUSED, syscall.ECONNABORTED,
		syscall.ETIMEDOUT, syscall.EPIPE, syscall.EAGAIN} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}
