package tick

import (
	"context"

	"github.com/pouchdp/pouch/shared/app"
)

// Jobs are the jobs of a tick for an App.
func Jobs(a *app.App) []Job {
	return []Job{
		{Name: "heartbeat", Run: func(ctx context.Context) (int, error) { a.BeatTick(ctx); return 0, nil }},
		{Name: "triggers", Run: a.Scheduler.Tick},
		{Name: "sweep", Run: a.Engine.Sweep},
	}
}
