// Package standalone builds Pouch's App for a function deployed on its own
// (an OpenFaaS container, an AWS Lambda), where nothing but the environment
// configures it: Settings come from POUCH_* variables. The embedded runtime
// (pouch serve) reads the same variables as its flags' defaults.
package standalone
