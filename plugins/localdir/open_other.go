//go:build !unix

package localdir

import "os"

// openNoFollow opens path for reading; the caller checks that it got a
// regular file.
func openNoFollow(path string) (*os.File, error) {
	return os.Open(path)
}
