// Package policy decides what an identity may do: an oslo.policy rule
// engine with Karbor's rules (spec §9.1) as defaults, overridable by a
// policy file (YAML or JSON map of rule name to rule, oslo's format).
//
// The rule language is oslo.policy's: checks "@" (always), "!" (never),
// "rule:NAME", "role:NAME" (case-insensitive), and "KIND:MATCH", which
// compares the credential KIND (is_admin, roles, project_id, user_id,
// is_admin_project) or a literal KIND ('quoted', True, False, a number) with
// MATCH after its %(key)s are replaced by the target's values (a missing key
// fails the check; booleans compare as True/False); combined with "and",
// "or", "not" and parentheses ("and" binds tighter than "or"). An empty rule
// always passes; oslo's legacy list form is read too. HTTP checks are not
// supported.
//
// Unlike oslo.policy, which logs a rule it cannot parse and then denies it, a
// file whose rules do not parse, refer to undefined rules or refer to
// themselves is refused when loaded. A rule name that is not defined is
// checked as "default" at enforcement, as oslo does.
package policy
