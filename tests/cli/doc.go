// Package cli (tests only) drives the real pouch binary ("pouch serve", what
// "make run" starts) with the real OpenStack clients a user has: the legacy
// karbor shell of python-karborclient and "openstack data protection" (OSC).
// Every command of the client (spec §10.2) runs through both where OSC has an
// equivalent, and the suite checks ids and statuses from the clients' own
// output: providers, plans, protectables, checkpoints, restores,
// verifications, triggers, scheduled operations, operation logs, services,
// quotas and quota classes, a full protect/restore/delete cycle of a local
// directory compared byte for byte, and the error messages users see.
//
// The clients talk to Pouch through a recording proxy in the test process;
// when a command fails, the test prints the HTTP exchanges of that command
// (request and response bodies), which is the wire evidence needed to tell a
// server mismatch from a client bug.
package cli
