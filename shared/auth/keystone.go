package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// ErrUnavailable: the identity service cannot tell whether a token is valid
// now (unreachable, failing, or refusing the service's own credentials); the
// API answers 503.
var ErrUnavailable = errors.New("the identity service is unavailable")

// Defaults of KeystoneConfig.
const (
	DefaultCacheTTL  = 5 * time.Minute
	DefaultCacheSize = 10000
	DefaultTimeout   = 10 * time.Second
)

// KeystoneConfig says where Keystone is and how the service authenticates
// to it.
type KeystoneConfig struct {
	// URL of Keystone's v3 API, e.g. http://127.0.0.1:5000/v3 ("/v3" is
	// appended when missing).
	URL string
	// The service's own credentials: a password user scoped to a project.
	User, Password, UserDomain, Project, ProjectDomain string
	// CacheTTL bounds how long a validated token is trusted without asking
	// Keystone again (never past its expiry), hence how late a revocation is
	// seen. 0: DefaultCacheTTL; negative: no cache.
	CacheTTL time.Duration
	// CacheSize bounds the number of cached tokens (0: DefaultCacheSize).
	CacheSize int
	// Timeout of each request to Keystone (0: DefaultTimeout). Ignored when
	// Client is set.
	Timeout time.Duration
	Client  *http.Client
	// IsAdmin decides Identity.IsAdmin (Karbor's context_is_admin, e.g.
	// policy.Enforcer.IsAdmin); nil: the identity has the admin role.
	IsAdmin func(*Identity) bool
}

// Keystone authenticates requests by validating their X-Auth-Token with
// Keystone v3 (GET /v3/auth/tokens), as keystonemiddleware's authtoken does
// for Karbor. Only project-scoped tokens are accepted. Valid tokens are
// cached. Safe for concurrent use.
type Keystone struct {
	cfg    KeystoneConfig
	base   string
	client *http.Client
	log    *slog.Logger
	now    func() time.Time

	svcMu      sync.Mutex // held while the service authenticates
	svcToken   string
	svcExpires time.Time
	svcMargin  time.Duration
	svcUserID  string

	mu    sync.Mutex
	cache map[[sha256.Size]byte]cached
}

type cached struct {
	id    *Identity
	until time.Time
}

// NewKeystone checks cfg and returns a Keystone authenticator. It does not
// contact Keystone: the service authenticates at the first validation.
func NewKeystone(cfg KeystoneConfig, log *slog.Logger) (*Keystone, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("keystone: URL %q is not an http(s) URL", cfg.URL)
	}
	if cfg.User == "" || cfg.Password == "" || cfg.Project == "" {
		return nil, fmt.Errorf("keystone: the service user, password and project are required")
	}
	if cfg.UserDomain == "" {
		cfg.UserDomain = "Default"
	}
	if cfg.ProjectDomain == "" {
		cfg.ProjectDomain = "Default"
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = DefaultCacheTTL
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = DefaultCacheSize
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	client := cfg.Client
	if client == nil {
		client = &http.Client{Timeout: cfg.Timeout}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base := strings.TrimRight(cfg.URL, "/")
	if !strings.HasSuffix(base, "/v3") {
		base += "/v3"
	}
	return &Keystone{cfg: cfg, base: base, client: client, log: log, now: time.Now,
		cache: make(map[[sha256.Size]byte]cached)}, nil
}

// Authenticate validates the request's X-Auth-Token. A missing, invalid,
// expired, revoked or unscoped token is ErrUnauthorized; a Keystone that
// cannot answer is ErrUnavailable.
func (k *Keystone) Authenticate(ctx context.Context, r *http.Request) (*Identity, error) {
	tok := r.Header.Get("X-Auth-Token")
	if tok == "" {
		return nil, fmt.Errorf("no X-Auth-Token: %w", ErrUnauthorized)
	}
	return k.Validate(ctx, tok)
}

// Validate returns the identity of a user token, from the cache or from
// Keystone.
func (k *Keystone) Validate(ctx context.Context, tok string) (*Identity, error) {
	key := sha256.Sum256([]byte(tok))
	if id := k.cached(key); id != nil {
		return id, nil
	}
	id, err := k.validate(ctx, tok)
	if err != nil {
		return nil, err
	}
	if k.cfg.IsAdmin != nil {
		id.IsAdmin = k.cfg.IsAdmin(id)
	} else {
		id.IsAdmin = id.HasRole("admin")
	}
	k.store(key, id)
	return clone(id), nil
}

func (k *Keystone) cached(key [sha256.Size]byte) *Identity {
	if k.cfg.CacheTTL < 0 {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	c, ok := k.cache[key]
	if !ok {
		return nil
	}
	if !k.now().Before(c.until) {
		delete(k.cache, key)
		return nil
	}
	return clone(c.id)
}

// store caches id until its token expires or the TTL ends. A full cache
// first drops its expired entries, then arbitrary ones.
func (k *Keystone) store(key [sha256.Size]byte, id *Identity) {
	if k.cfg.CacheTTL < 0 {
		return
	}
	now := k.now()
	until := now.Add(k.cfg.CacheTTL)
	if id.ExpiresAt.Before(until) {
		until = id.ExpiresAt
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.cache) >= k.cfg.CacheSize {
		for kk, c := range k.cache {
			if !now.Before(c.until) {
				delete(k.cache, kk)
			}
		}
		for kk := range k.cache {
			if len(k.cache) < k.cfg.CacheSize {
				break
			}
			delete(k.cache, kk)
		}
	}
	k.cache[key] = cached{id: clone(id), until: until}
}

func clone(id *Identity) *Identity {
	c := *id
	c.Roles = slices.Clone(id.Roles)
	return &c
}

// validate asks Keystone about tok with the service's token, authenticating
// the service again once if Keystone refuses its token.
func (k *Keystone) validate(ctx context.Context, tok string) (*Identity, error) {
	for attempt := 0; ; attempt++ {
		svc, err := k.serviceToken(ctx, "")
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.base+"/auth/tokens?nocatalog", nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("X-Auth-Token", svc)
		req.Header.Set("X-Subject-Token", tok)
		resp, err := k.client.Do(req)
		if err != nil {
			k.log.WarnContext(ctx, "keystone unreachable", "err", err)
			return nil, fmt.Errorf("%w: validate token: %w", ErrUnavailable, err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("%w: validate token: %w", ErrUnavailable, err)
		}
		switch {
		case resp.StatusCode == http.StatusOK:
			return k.identity(tok, body)
		case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusBadRequest:
			k.log.DebugContext(ctx, "keystone refused a token", "status", resp.StatusCode)
			return nil, fmt.Errorf("keystone: token not found, expired or revoked: %w", ErrUnauthorized)
		case resp.StatusCode == http.StatusUnauthorized && attempt == 0:
			// Our own token expired early or was revoked: authenticate again.
			k.log.InfoContext(ctx, "keystone refused the service token; authenticating again")
			if _, err := k.serviceToken(ctx, svc); err != nil {
				return nil, err
			}
			continue
		}
		k.log.ErrorContext(ctx, "keystone cannot validate tokens", "status", resp.StatusCode, "body", snippet(body))
		return nil, fmt.Errorf("%w: validate token: keystone answered %s", ErrUnavailable, resp.Status)
	}
}

// tokenBody is what Keystone says about a token.
type tokenBody struct {
	Token struct {
		ExpiresAt string `json:"expires_at"`
		User      struct {
			ID string `json:"id"`
		} `json:"user"`
		Project *struct {
			ID string `json:"id"`
		} `json:"project"`
		Roles []struct {
			Name string `json:"name"`
		} `json:"roles"`
		IsAdminProject *bool `json:"is_admin_project"`
	} `json:"token"`
}

// identity builds the Identity of a validated token. A token without a
// project (unscoped, domain or system scoped) is refused; is_admin_project
// is true when Keystone does not say (Keystone omits it when no admin
// project is configured, and keystoneauth then reads true).
func (k *Keystone) identity(tok string, body []byte) (*Identity, error) {
	var b tokenBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("%w: keystone's token body: %w", ErrUnavailable, err)
	}
	t := b.Token
	if t.User.ID == "" {
		return nil, fmt.Errorf("%w: keystone's token body names no user", ErrUnavailable)
	}
	if t.Project == nil || t.Project.ID == "" {
		return nil, fmt.Errorf("keystone: the token is not scoped to a project: %w", ErrUnauthorized)
	}
	exp, err := parseTime(t.ExpiresAt)
	if err != nil {
		return nil, fmt.Errorf("%w: keystone's token expires_at %q: %w", ErrUnavailable, t.ExpiresAt, err)
	}
	if !k.now().Before(exp) {
		return nil, fmt.Errorf("keystone: the token expired at %s: %w", t.ExpiresAt, ErrUnauthorized)
	}
	id := &Identity{UserID: t.User.ID, ProjectID: t.Project.ID, IsAdminProject: true, Token: tok, ExpiresAt: exp}
	if t.IsAdminProject != nil {
		id.IsAdminProject = *t.IsAdminProject
	}
	for _, r := range t.Roles {
		id.Roles = append(id.Roles, r.Name)
	}
	return id, nil
}

// serviceToken returns the service's token, authenticating when there is
// none, it is about to expire, or it is stale (the token Keystone just
// refused; another caller may have replaced it already).
func (k *Keystone) serviceToken(ctx context.Context, stale string) (string, error) {
	k.svcMu.Lock()
	defer k.svcMu.Unlock()
	if k.svcToken != "" && k.svcToken != stale && k.now().Add(k.svcMargin).Before(k.svcExpires) {
		return k.svcToken, nil
	}
	scope := map[string]any{"project": map[string]any{"name": k.cfg.Project,
		"domain": map[string]any{"name": k.cfg.ProjectDomain}}}
	tok, tb, err := k.passwordAuth(ctx, scope)
	if err != nil {
		return "", err
	}
	exp, err := parseTime(tb.Token.ExpiresAt)
	if err != nil {
		return "", fmt.Errorf("%w: authenticate the service: no expiry in keystone's answer", ErrUnavailable)
	}
	// Renew a minute before expiry, or a quarter of the lifetime of a
	// short-lived token.
	k.svcToken, k.svcExpires, k.svcUserID = tok, exp, tb.Token.User.ID
	k.svcMargin = min(time.Minute, exp.Sub(k.now())/4)
	k.log.InfoContext(ctx, "authenticated to keystone", "user", k.cfg.User, "project", k.cfg.Project, "expires", exp)
	return tok, nil
}

// passwordAuth authenticates the service's user with its password under
// scope (a project, or a trust): the token and Keystone's answer.
func (k *Keystone) passwordAuth(ctx context.Context, scope map[string]any) (string, *tokenBody, error) {
	tok, tb, status, err := passwordToken(ctx, k.client, k.base, k.cfg.User, k.cfg.Password, k.cfg.UserDomain, scope)
	if err != nil {
		k.log.WarnContext(ctx, "keystone unreachable", "err", err)
		return "", nil, fmt.Errorf("%w: authenticate the service: %w", ErrUnavailable, err)
	}
	if status != http.StatusCreated {
		k.log.ErrorContext(ctx, "keystone refused the service credentials", "status", status,
			"user", k.cfg.User, "scope", scope)
		return "", nil, fmt.Errorf("%w: authenticate the service as %s: keystone answered %d",
			ErrUnavailable, k.cfg.User, status)
	}
	return tok, tb, nil
}

// passwordToken asks the Keystone at base (its v3 URL) for a token of user
// under scope. A status other than 201 is returned, not an error; errors
// are of transport or of an answer that cannot be read.
func passwordToken(ctx context.Context, client *http.Client, base, user, password, userDomain string, scope map[string]any) (string, *tokenBody, int, error) {
	body := map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{
			"user": map[string]any{"name": user, "password": password,
				"domain": map[string]any{"name": userDomain}}}},
		"scope": scope}}
	data, err := json.Marshal(body)
	if err != nil {
		return "", nil, 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/auth/tokens?nocatalog", bytes.NewReader(data))
	if err != nil {
		return "", nil, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "", nil, 0, err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return "", nil, 0, err
	}
	if resp.StatusCode != http.StatusCreated {
		return "", nil, resp.StatusCode, nil
	}
	var tb tokenBody
	if err := json.Unmarshal(rb, &tb); err != nil {
		return "", nil, 0, err
	}
	tok := resp.Header.Get("X-Subject-Token")
	if tok == "" {
		return "", nil, 0, errors.New("no token in keystone's answer")
	}
	return tok, &tb, resp.StatusCode, nil
}

// parseTime reads Keystone's times: ISO 8601, UTC when no zone is given
// (a token issued from an expiring application credential may say so).
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02T15:04:05.999999999", s)
}

// snippet is the start of a body, for logs.
func snippet(b []byte) string {
	const max = 200
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}
