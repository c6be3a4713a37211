package redisserver

import "syscall"

// sysProcAttr asks the kernel to send SIGTERM to redis-server when the thread
// that started it dies. Start runs the child from a goroutine locked to its
// OS thread for the child's whole life, so that thread dies only with the
// process (or after the child has exited).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
