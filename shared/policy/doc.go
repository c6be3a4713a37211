// Package policy decides what an identity may do: Karbor's oslo.policy
// rules (spec §9.1) as defaults, overridable by a policy file.
package policy
