package envfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRead(t *testing.T) {
	p := filepath.Join(t.TempDir(), "env")
	if err := os.WriteFile(p, []byte("A=1\nURL=http://x/?a=b\n\nnot a line\nEMPTY=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"A": "1", "URL": "http://x/?a=b", "EMPTY": ""}
	if len(env) != len(want) {
		t.Fatalf("got %v, want %v", env, want)
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if _, err := Read(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing file gave no error")
	}
}
