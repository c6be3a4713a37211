package tick

import "github.com/pouchdp/pouch/shared/app"

// Jobs are the jobs of a tick for an App.
func Jobs(a *app.App) []Job {
	return []Job{{Name: "sweep", Run: a.Engine.Sweep}}
}
