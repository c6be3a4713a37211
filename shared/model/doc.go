// Package model holds Pouch's domain types under Karbor's names: Resource,
// Plan, Checkpoint, Restore, OperationLog and the status values of each.
// The JSON tags are Karbor v1's wire names.
package model
