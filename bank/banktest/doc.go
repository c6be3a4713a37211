// Package banktest is the conformance suite every bank.Bank implementation
// must pass unchanged.
//
// A bank's own test calls Run with a function that opens a fresh, empty bank
// for each subtest:
//
//	func TestConformance(t *testing.T) {
//		banktest.Run(t, func(t *testing.T) bank.Bank {
//			b, err := fsbank.New(t.TempDir(), "karbor")
//			if err != nil {
//				t.Fatal(err)
//			}
//			return b
//		})
//	}
//
// The suite covers object round trips (including multi-megabyte streams read
// from a plain io.Reader), key normalisation and validation, deletion,
// listing (prefix, sort order, marker, limit, pagination), atomic overwrite
// under concurrent readers and writers, context cancellation and leases.
// Lease subtests use real time with TTLs of about two seconds, so that banks
// with one-second expiry resolution (Swift's X-Delete-After) pass too; they
// run in parallel and add about three seconds to the run.
package banktest
