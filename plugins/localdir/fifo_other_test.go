//go:build !unix

package localdir

import "errors"

func mkfifo(path string) error { return errors.ErrUnsupported }
