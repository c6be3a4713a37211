package localdir

import (
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/pouchdp/pouch/tests/treetest"

	"github.com/pouchdp/pouch/shared/model"
)

// watchHeap samples HeapInuse until the returned function is called, which
// returns the peak seen.
func watchHeap() (stop func() uint64) {
	runtime.GC()
	done, result := make(chan struct{}), make(chan uint64)
	go func() {
		var ms runtime.MemStats
		var peak uint64
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-done:
				result <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 { close(done); return <-result }
}

// TestBigFile protects and restores a 200 MB file with 8 MiB chunks and
// checks that the heap stays far below the file's size.
func TestBigFile(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 200 MB")
	}
	const size = 200_000_000
	const limit = 64 << 20 // well under 100 MB; a file held whole would be 200 MB
	e := newEnv(t, DefaultChunkSize)
	src := filepath.Join(e.root, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(src, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	// A deterministic pseudo-random stream, never held in memory.
	if _, err := io.CopyN(f, rand.NewChaCha8([32]byte{42}), size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "small.txt"), []byte("small"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := treetest.Snapshot(t, src)
	r := ResourceFor(src)

	stop := watchHeap()
	start := time.Now()
	hc := e.mustRun(model.OpProtect, r, nil)
	protectTime := time.Since(start)
	protectPeak := stop()
	if p := hc.Progress.(*counter); p.total.Load() != size+5 || p.done.Load() != size+5 {
		t.Errorf("protect progress %d/%d, want %d", p.done.Load(), p.total.Load(), size+5)
	}
	m := e.manifest(r)
	for _, en := range m.Entries {
		if en.Path == "big.bin" {
			if n := len(en.Chunks); n != (size+DefaultChunkSize-1)/DefaultChunkSize {
				t.Errorf("big.bin in %d chunks", n)
			}
			for _, c := range en.Chunks {
				if c.Size > DefaultChunkSize {
					t.Errorf("chunk %d of %d bytes", c.N, c.Size)
				}
			}
		}
	}

	treetest.RemoveAll(t, src)

	stop = watchHeap()
	start = time.Now()
	hc = e.mustRun(model.OpRestore, r, nil)
	restoreTime := time.Since(start)
	restorePeak := stop()
	if p := hc.Progress.(*counter); p.total.Load() != size+5 || p.done.Load() != size+5 {
		t.Errorf("restore progress %d/%d, want %d", p.done.Load(), p.total.Load(), size+5)
	}
	treetest.Compare(t, treetest.Snapshot(t, src), want)

	t.Logf("protect %v (peak HeapInuse %.1f MiB), restore %v (peak HeapInuse %.1f MiB)",
		protectTime, float64(protectPeak)/(1<<20), restoreTime, float64(restorePeak)/(1<<20))
	if protectPeak > limit || restorePeak > limit {
		t.Errorf("peak HeapInuse %d (protect), %d (restore); want under %d", protectPeak, restorePeak, limit)
	}
}
