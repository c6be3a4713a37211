// Package keystone (tests only) proves Pouch's Keystone authentication and
// Karbor's default policy against a real Keystone: start.sh starts a private
// MariaDB and Keystone 22 (uwsgi) on 127.0.0.1 under a temporary directory,
// once for the package, and stop.sh stops them by PID; the tests then create
// projects A and B, users alice (member of A) and bob (member of B), and the
// service user pouch (admin of project service) through Keystone's REST API,
// and drive Pouch's API, served in-process by httptest over a real
// redis-server, with tokens Keystone issued.
//
// They prove: tenant isolation (bob neither sees nor touches A's plans,
// checkpoints, restores and operation logs, even with all_tenants=1; an
// admin of the admin project lists every project's plans); the URL's
// project must be the token's (400); missing, garbage, unscoped, revoked and
// expired tokens are 401 in Karbor's fault shape; validations are cached (a
// counting proxy in front of Keystone sees them) until the token expires or
// the cache TTL ends, so a revocation is seen within the TTL; an unreachable
// Keystone is not a 401; a policy file overrides a default rule (403).
//
// The packages come from tests/setup.sh (keystone, mariadb-server,
// uwsgi-plugin-python3). Without them the tests skip, unless
// POUCH_REQUIRE_KEYSTONE is set (CI), where they fail. Starting Keystone
// takes about 16 s; POUCH_TEST_LOG=1 shows Pouch's logs.
package keystone
