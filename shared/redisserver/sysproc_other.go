//go:build !linux

package redisserver

import "syscall"

// sysProcAttr has no parent-death signal outside Linux: Close must be called.
func sysProcAttr() *syscall.SysProcAttr { return nil }
