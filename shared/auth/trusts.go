package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// Trusts let a scheduled operation act as the user who created it, as
// Karbor's operation engine did: at creation the user (trustor) delegates
// their roles in the project to Pouch's service user (trustee); at each
// firing the service authenticates with its own password scoped to the
// trust and gets a token that acts as the user (impersonation).

// CreateTrust makes a trust from id's user to the service user, on id's
// project with id's roles, using id's own token (only the trustor may).
func (k *Keystone) CreateTrust(ctx context.Context, id *Identity) (string, error) {
	if _, err := k.serviceToken(ctx, ""); err != nil {
		return "", err
	}
	k.svcMu.Lock()
	trustee := k.svcUserID
	k.svcMu.Unlock()
	roles := make([]map[string]string, len(id.Roles))
	for i, r := range id.Roles {
		roles[i] = map[string]string{"name": r}
	}
	body := map[string]any{"trust": map[string]any{"trustor_user_id": id.UserID, "trustee_user_id": trustee,
		"project_id": id.ProjectID, "impersonation": true, "roles": roles}}
	var out struct {
		Trust struct {
			ID string `json:"id"`
		} `json:"trust"`
	}
	if err := k.call(ctx, id.Token, http.MethodPost, "/OS-TRUST/trusts", body, http.StatusCreated, &out); err != nil {
		return "", fmt.Errorf("create a trust for user %s in project %s: %w", id.UserID, id.ProjectID, err)
	}
	return out.Trust.ID, nil
}

// TrustToken is a token acting as a trust's trustor, in its project.
func (k *Keystone) TrustToken(ctx context.Context, trustID string) (string, error) {
	tok, _, err := k.passwordAuth(ctx, map[string]any{"OS-TRUST:trust": map[string]any{"id": trustID}})
	if err != nil {
		return "", fmt.Errorf("token of trust %s: %w", trustID, err)
	}
	return tok, nil
}

// DeleteTrust removes a trust, with the token of its trustor (or of an
// admin).
func (k *Keystone) DeleteTrust(ctx context.Context, token, trustID string) error {
	return k.call(ctx, token, http.MethodDelete, "/OS-TRUST/trusts/"+trustID, nil, http.StatusNoContent, nil)
}

// call sends one request to Keystone with token and decodes a JSON answer
// into out (if not nil); a status other than want is an error.
func (k *Keystone) call(ctx context.Context, token, method, path string, body any, want int, out any) error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, k.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("X-Auth-Token", token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("keystone answered %s: %s", resp.Status, snippet(rb))
	}
	if out != nil {
		return json.Unmarshal(rb, out)
	}
	return nil
}
