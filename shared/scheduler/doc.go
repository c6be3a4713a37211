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
// The same atomic step records the firing as started; it is forgotten once
// its operations have started. A tick that dies in between leaves it
// recorded, and a tick StaleFiring later runs it again. What a firing makes
// (its checkpoint, its operation logs) has ids derived from the scheduled
// operation and the execution time, so running a firing twice starts
// nothing twice.
package scheduler
