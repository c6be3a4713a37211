// Package functions lists Pouch's functions (api, hook, tick) as one set, so
// that every way of running them (the embedded runtime, an OpenFaaS
// container, an AWS Lambda) serves the same functions under the same names.
// Each function's own code is in its subpackage.
package functions
