// Package envfile reads the KEY=VALUE files that the test stacks' start.sh
// scripts write (tests/keystone, tests/swift, tests/openstack): one variable
// per line, no quoting.
package envfile

import (
	"bufio"
	"os"
	"strings"
)

// Read returns the variables of the file at path.
func Read(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			env[k] = v
		}
	}
	return env, sc.Err()
}
