package conf

import (
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/ini.v1"
)

// ErrMissing marks a required key that is absent or empty.
var ErrMissing = errors.New("missing")

// KeyError is an error about one key of one file.
type KeyError struct {
	Path, Section, Key string
	Err                error
}

func (e *KeyError) Error() string {
	return fmt.Sprintf("%s: [%s] %s: %v", e.Path, e.Section, e.Key, e.Err)
}

func (e *KeyError) Unwrap() error { return e.Err }

// File is one parsed configuration file.
type File struct {
	path string
	ini  *ini.File
	env  func(string) (string, bool)
}

// Load parses the file at path. Values may refer to environment variables.
func Load(path string) (*File, error) {
	return load(path, os.LookupEnv)
}

// LoadWithEnv is Load with the environment given as a lookup function.
func LoadWithEnv(path string, env func(string) (string, bool)) (*File, error) {
	return load(path, env)
}

func load(path string, env func(string) (string, bool)) (*File, error) {
	f, err := ini.LoadSources(ini.LoadOptions{AllowShadows: true, AllowDuplicateShadowValues: true, SpaceBeforeInlineComment: true}, path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &File{path: path, ini: f, env: env}, nil
}

// LookupEnv reads the environment the file's ${VAR} references read (the
// process's, unless the file was loaded with another).
func (f *File) LookupEnv(key string) (string, bool) { return f.env(key) }

// Path is the file's path.
func (f *File) Path() string { return f.path }

// Has reports whether section has key.
func (f *File) Has(section, key string) bool {
	s, err := f.ini.GetSection(section)
	return err == nil && s.HasKey(key)
}

// HasSection reports whether the file has section.
func (f *File) HasSection(section string) bool {
	_, err := f.ini.GetSection(section)
	return err == nil
}

// Errorf makes a KeyError for section/key.
func (f *File) Errorf(section, key, format string, args ...any) error {
	return &KeyError{Path: f.path, Section: section, Key: key, Err: fmt.Errorf(format, args...)}
}

func (f *File) values(section, key string) []string {
	s, err := f.ini.GetSection(section)
	if err != nil || !s.HasKey(key) {
		return nil
	}
	vals := s.Key(key).ValueWithShadows()
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = f.expand(strings.TrimSpace(v))
	}
	return out
}

// String returns the (last) value of section/key, or def when absent.
func (f *File) String(section, key, def string) string {
	v := f.values(section, key)
	if len(v) == 0 {
		return def
	}
	return v[len(v)-1]
}

// Required returns the value of section/key; absent or empty is an error.
func (f *File) Required(section, key string) (string, error) {
	v := f.String(section, key, "")
	if v == "" {
		return "", &KeyError{Path: f.path, Section: section, Key: key, Err: ErrMissing}
	}
	return v, nil
}

// Strings returns every value of a repeated key; each value may also be a
// comma-separated list. Empty items are dropped.
func (f *File) Strings(section, key string) []string {
	var out []string
	for _, v := range f.values(section, key) {
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

// Values returns every value of a repeated key as written; the INI reader
// drops empty ones.
func (f *File) Values(section, key string) []string { return f.values(section, key) }

// Int returns section/key as an integer, def when absent.
func (f *File) Int(section, key string, def int) (int, error) {
	v := f.String(section, key, "")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, &KeyError{Path: f.path, Section: section, Key: key, Err: fmt.Errorf("not an integer: %q", v)}
	}
	return n, nil
}

// Bool returns section/key as a boolean (true/false/yes/no/1/0), def when absent.
func (f *File) Bool(section, key string, def bool) (bool, error) {
	v := strings.ToLower(f.String(section, key, ""))
	switch v {
	case "":
		return def, nil
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, &KeyError{Path: f.path, Section: section, Key: key, Err: fmt.Errorf("not a boolean: %q", v)}
}

// Seconds returns section/key, an integer number of seconds, as a duration,
// def when absent.
func (f *File) Seconds(section, key string, def time.Duration) (time.Duration, error) {
	if f.String(section, key, "") == "" {
		return def, nil
	}
	n, err := f.Int(section, key, 0)
	if err != nil {
		return 0, err
	}
	if n < 0 || int64(n) > math.MaxInt64/int64(time.Second) {
		return 0, &KeyError{Path: f.path, Section: section, Key: key, Err: fmt.Errorf("not a number of seconds: %d", n)}
	}
	return time.Duration(n) * time.Second, nil
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

func (f *File) expand(v string) string {
	return envRef.ReplaceAllStringFunc(v, func(m string) string {
		g := envRef.FindStringSubmatch(m)
		if val, ok := f.env(g[1]); ok && val != "" {
			return val
		}
		return g[3]
	})
}
