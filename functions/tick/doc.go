// Package tick is the tick function, invoked every minute (OpenFaaS cron
// connector, EventBridge schedule or the local runtime's cron). Each call
// runs every job once: now the engine's sweep, which finishes operations
// whose finisher died; lease garbage collection and schedules join it.
package tick
