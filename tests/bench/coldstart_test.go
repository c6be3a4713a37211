// Package bench measures the cold start of Pouch's Lambda bootstraps:
// coldstart.sh runs BenchmarkColdStart.
package bench

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/pouchdp/pouch/shared/provider"
	"github.com/pouchdp/pouch/tests/lambdatest"
	"github.com/pouchdp/pouch/tests/redistest"
)

// BenchmarkColdStart execs the bootstrap of each function, as a new Lambda
// execution environment, with its first event already queued at the
// Runtime API fake, and measures from exec to the answer (init, opening the
// App on a real redis-server, and the event's work), once per iteration. It
// reports the median and the worst as ms/answer and max-ms/answer, the median
// time from exec to the runtime's first /next (Lambda's Init Duration) as
// ms/init, and the binary's size as MB.
func BenchmarkColdStart(b *testing.B) {
	dir := b.TempDir()
	binary := lambdatest.Build(b, dir, runtime.GOARCH)
	fi, err := os.Stat(binary)
	if err != nil {
		b.Fatal(err)
	}
	providers := filepath.Join(dir, "providers.d")
	if _, err := provider.WriteDefaults(providers); err != nil {
		b.Fatal(err)
	}
	redis := redistest.Addr(b)
	invokeAPI := lambdatest.NewInvokeAPIFake(b)
	for _, fn := range []struct {
		name  string
		event []byte
	}{
		{"api", lambdatest.HTTPAPIEvent("GET", "/v1/p1/providers", "u:p1", "")},
		{"hook", []byte(`{"op":"cold-start-no-such-operation","task":0}`)},
		{"tick", lambdatest.ScheduleEvent(time.Now())},
	} {
		b.Run(fn.name, func(b *testing.B) {
			env := []string{"POUCH_FUNCTION=" + fn.name, "POUCH_REDIS=" + redis, "POUCH_PROVIDERS_DIR=" + providers,
				"POUCH_DATA_DIR=" + filepath.Join(dir, "data"), "POUCH_ALLOWED_ROOTS=" + dir,
				"POUCH_LAMBDA_ENDPOINT=" + invokeAPI.URL(), "POUCH_LOG_LEVEL=warn"}
			var answers, inits []time.Duration
			for b.Loop() {
				answer, init := coldStart(b, binary, "pouch-"+fn.name, fn.event, env)
				answers, inits = append(answers, answer), append(inits, init)
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(ms(median(answers)), "ms/answer")
			b.ReportMetric(ms(slices.Max(answers)), "max-ms/answer")
			b.ReportMetric(ms(median(inits)), "ms/init")
			b.ReportMetric(float64(fi.Size())/(1<<20), "MB")
		})
	}
}

// coldStart runs one execution environment of function for one event and
// returns the time from exec to its answer and to its first /next.
func coldStart(b *testing.B, binary, function string, event []byte, env []string) (answer, init time.Duration) {
	rt := lambdatest.NewRuntimeAPIFake(b, function)
	defer rt.Close()
	inv := rt.Enqueue(event)
	p := lambdatest.Start(b, binary, rt, env...)
	defer p.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := inv.Wait(ctx)
	if err != nil {
		b.Fatalf("%v\n%s", err, p.Logs.String())
	}
	if res.Error != nil {
		b.Fatalf("%s answered a Lambda error: %+v\n%s", function, res.Error, p.Logs.String())
	}
	taken, ended := inv.Times()
	return ended.Sub(p.Started), taken.Sub(p.Started)
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
