package keystone_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestBadTokens: a request without a valid project-scoped token is 401 in
// Karbor's fault shape, and costs a validation each time (failures are not
// cached).
func TestBadTokens(t *testing.T) {
	t.Parallel()
	k := needKeystone(t)
	p := newPouch(t, k, setup{})
	unscoped, err := k.issue(context.Background(), &user{name: k.alice.name, password: k.alice.password})
	if err != nil {
		t.Fatal(err)
	}
	revoked := k.token(t, k.alice)
	k.revoke(t, revoked)
	path := "/v1/" + k.alice.projectID + "/plans"
	for _, tc := range []struct {
		name, token string
		asked       int64 // validations reaching Keystone
	}{
		{"no token", "", 0},
		{"garbage", "garbage", 1},
		{"garbage again", "garbage", 1},
		{"not fernet", "gAAAAABnot-a-token", 1},
		{"unscoped", unscoped, 1},
		{"revoked", revoked, 1},
	} {
		before := p.proxy.validations.Load()
		p.Do(t, tc.token, "GET", path, nil).Fault(t, http.StatusUnauthorized)
		if n := p.proxy.validations.Load() - before; n != tc.asked {
			t.Errorf("%s: %d validations, want %d", tc.name, n, tc.asked)
		}
	}
}

// TestCache: a validated token is not validated again while cached; each
// token is validated once; the service authenticates once.
func TestCache(t *testing.T) {
	t.Parallel()
	k := needKeystone(t)
	p := newPouch(t, k, setup{})
	alice, bob := k.caller(t, k.alice), k.caller(t, k.bob)
	p.as(t, alice, "GET", "plans", nil).OK(t)
	if v, a := p.proxy.validations.Load(), p.proxy.authentications.Load(); v != 1 || a != 1 {
		t.Fatalf("first call: %d validations and %d service authentications, want 1 and 1", v, a)
	}
	for range 5 {
		p.as(t, alice, "GET", "plans", nil).OK(t)
		p.as(t, alice, "GET", "providers", nil).OK(t)
	}
	p.plan(t, alice, "cached")
	if v := p.proxy.validations.Load(); v != 1 {
		t.Errorf("%d validations after 12 calls with one token, want 1", v)
	}
	p.as(t, bob, "GET", "plans", nil).OK(t)
	p.as(t, bob, "GET", "plans", nil).OK(t)
	if v, a := p.proxy.validations.Load(), p.proxy.authentications.Load(); v != 2 || a != 1 {
		t.Errorf("after a second token: %d validations and %d service authentications, want 2 and 1", v, a)
	}
}

// TestRevoked: a revoked token is refused once its cached validation ends:
// at most the cache TTL (2 s here, 5 min by default) after the revocation.
func TestRevoked(t *testing.T) {
	t.Parallel()
	k := needKeystone(t)
	const ttl = 2 * time.Second
	p := newPouch(t, k, setup{cacheTTL: ttl})
	alice := k.caller(t, k.alice)
	p.as(t, alice, "GET", "plans", nil).OK(t)
	validated := time.Now()
	k.revoke(t, alice.token)
	if time.Since(validated) < ttl-200*time.Millisecond {
		// Still cached: Pouch does not know yet, as keystonemiddleware with
		// its token cache.
		p.as(t, alice, "GET", "plans", nil).OK(t)
	} else {
		t.Logf("the revocation took %v: the cached validation was not checked", time.Since(validated))
	}
	time.Sleep(time.Until(validated.Add(ttl + 100*time.Millisecond)))
	p.as(t, alice, "GET", "plans", nil).Fault(t, http.StatusUnauthorized)
}

// TestExpired: a token is refused once it expires, even if its validation
// is cached with a longer TTL. The token comes from an application
// credential expiring in a few seconds (Keystone caps the token's expiry at
// the credential's); Keystone then says the token is not found.
func TestExpired(t *testing.T) {
	t.Parallel()
	k := needKeystone(t)
	p := newPouch(t, k, setup{}) // 5 min TTL
	path := "/v1/" + k.alice.projectID + "/plans"
	var until time.Time
	var tok string
	var base int64
	for window := 5 * time.Second; ; window *= 2 {
		until = time.Now().Add(window).Truncate(time.Second)
		tok = k.expiringToken(t, k.alice, until)
		base = p.proxy.validations.Load()
		// A slow Keystone (or one whose clock runs ahead of ours) may leave
		// too little time, or none: again, longer.
		if time.Until(until) > 2*time.Second {
			if r := p.Do(t, tok, "GET", path, nil); r.Code == http.StatusOK {
				break
			}
		}
		if window > time.Minute {
			t.Fatalf("no token from an application credential expiring within %v validated", window)
		}
	}
	p.Do(t, tok, "GET", path, nil).OK(t)
	if v := p.proxy.validations.Load() - base; v != 1 {
		t.Errorf("%d validations, want 1 (cached)", v)
	}
	time.Sleep(time.Until(until.Add(500 * time.Millisecond)))
	p.Do(t, tok, "GET", path, nil).Fault(t, http.StatusUnauthorized)
	if v := p.proxy.validations.Load() - base; v != 2 {
		t.Errorf("%d validations, want 2 (the cache ends at the expiry)", v)
	}
}

// TestUnavailable: when Keystone cannot be reached, or refuses the service's
// own credentials, the caller is not told its token is bad: 503
// serviceUnavailable, never 401.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	k := needKeystone(t)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	alice := k.caller(t, k.alice)
	for name, s := range map[string]setup{
		"keystone down":          {keystoneURL: down.URL + "/v3"},
		"wrong service password": {password: "wrong"},
	} {
		t.Run(name, func(t *testing.T) {
			p := newPouch(t, k, s)
			r := p.as(t, alice, "GET", "plans", nil)
			r.Fault(t, http.StatusServiceUnavailable)
		})
	}
}
