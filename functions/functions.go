package functions

import (
	"log/slog"

	"github.com/pouchdp/pouch/functions/api"
	"github.com/pouchdp/pouch/functions/hook"
	"github.com/pouchdp/pouch/functions/tick"
	"github.com/pouchdp/pouch/shared/app"
	"github.com/pouchdp/pouch/shared/runtime"
)

// Names of Pouch's functions, as deployed (stack.yml, Lambda).
const (
	API  = "api"
	Hook = "hook"
	Tick = "tick"
)

// TickSchedule is the tick function's cron schedule (every minute).
const TickSchedule = "* * * * *"

// All returns every function of a over HTTP, with the annotations the cron
// connector reads on tick.
func All(a *app.App, log *slog.Logger) []runtime.Function {
	return []runtime.Function{
		{Name: API, Handler: api.Handler(a)},
		{Name: Hook, Handler: hook.Handler(a.Engine, log)},
		{Name: Tick, Handler: tick.Handler(log, tick.Jobs(a)),
			Annotations: map[string]string{"topic": "cron-function", "schedule": TickSchedule}},
	}
}

// Find returns the function called name in fns.
func Find(fns []runtime.Function, name string) (runtime.Function, bool) {
	for _, f := range fns {
		if f.Name == name {
			return f, true
		}
	}
	return runtime.Function{}, false
}
