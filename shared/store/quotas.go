package store

// Quotas: per-project limits and usage of plans and checkpoints. PLACEHOLDER.
type Quotas struct{}

// Services: the functions' heartbeats, shown as Karbor's os-services.
// PLACEHOLDER.
type Services struct{}
