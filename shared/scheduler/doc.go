// Package scheduler fires time triggers from the stateless tick function
// (spec §7.2). Each trigger's next execution time sits in a Redis sorted set
// (the due-set), so a tick costs O(due triggers), not O(all triggers). A
// tick takes each due trigger by moving its score from that execution time
// to the next one in one atomic compare-and-set: of several ticks running at
// once, or a tick retried, exactly one fires a given execution time. Firing
// runs each scheduled operation of the trigger through the engine (no HTTP
// call back to the API) and writes an operation log; a firing later than
// its window is skipped, and an operation log says so.
//
// A tick that dies between taking a firing and starting its operations
// loses that firing (at most once): the next execution time is already in
// the due-set.
package scheduler
