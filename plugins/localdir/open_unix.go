//go:build unix

package localdir

import (
	"os"
	"syscall"
)

// openNoFollow opens path for reading without following a final symlink and
// without blocking should it have been replaced by a FIFO since it was
// listed; the caller checks that it got a regular file.
func openNoFollow(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
}
