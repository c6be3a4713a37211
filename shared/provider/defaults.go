package provider

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed defaults/*.conf
var defaults embed.FS

// WriteDefaults writes the providers Pouch ships (noop, local directory) into
// dir when dir does not exist yet, so a first run has a working setup that
// the operator can then edit. An existing dir is left alone.
func WriteDefaults(dir string) (bool, error) {
	if _, err := os.Stat(dir); err == nil {
		return false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return false, err
	}
	files, err := fs.Glob(defaults, "defaults/*.conf")
	if err != nil {
		return false, err
	}
	for _, f := range files {
		data, err := defaults.ReadFile(f)
		if err != nil {
			return false, err
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o640); err != nil {
			return false, fmt.Errorf("write default provider: %w", err)
		}
	}
	return true, nil
}
