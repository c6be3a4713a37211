package lambda

import (
	"debug/elf"
	"os"
	"testing"

	"github.com/pouchdp/pouch/tests/lambdatest"
)

// maxSize is the size budget of a bootstrap binary.
const maxSize = 25 << 20

// TestBuild builds the bootstrap for both of Lambda's architectures and
// checks that each is a static, stripped Linux executable of that
// architecture within the size budget.
func TestBuild(t *testing.T) {
	for _, tt := range []struct {
		goarch  string
		machine elf.Machine
	}{
		{"amd64", elf.EM_X86_64},
		{"arm64", elf.EM_AARCH64},
	} {
		t.Run(tt.goarch, func(t *testing.T) {
			path := lambdatest.Build(t, t.TempDir(), tt.goarch)
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("bootstrap %s: %.1f MB", tt.goarch, float64(fi.Size())/(1<<20))
			if fi.Size() > maxSize {
				t.Errorf("bootstrap %s is %d bytes, over the %d budget", tt.goarch, fi.Size(), maxSize)
			}
			if fi.Mode()&0o111 == 0 {
				t.Errorf("bootstrap is not executable: %v", fi.Mode())
			}
			f, err := elf.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if f.Machine != tt.machine || f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX {
				t.Errorf("machine %v, OS ABI %v; want %v on Linux", f.Machine, f.OSABI, tt.machine)
			}
			for _, p := range f.Progs {
				if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
					t.Errorf("bootstrap is dynamically linked (%v): provided.al2023 wants CGO_ENABLED=0", p.Type)
				}
			}
			if f.Section(".symtab") != nil {
				t.Error("bootstrap has a symbol table: not built with -ldflags -s")
			}
		})
	}
}
