// Package e2e runs the real pouch binary ("pouch serve", what "make run"
// starts) and drives it over HTTP as a user would: the README walkthrough on
// a directory with a 200 MB file, a restart in the middle, the function
// routes of the local provider, and the fallback to an embedded Redis.
package e2e
