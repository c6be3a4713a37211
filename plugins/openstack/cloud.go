package openstack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	gos "github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"github.com/pouchdp/pouch/shared/conf"
	"github.com/pouchdp/pouch/shared/protection"
)

// Section is the provider file section every OpenStack plugin reads.
const Section = "openstack_client"

// DefaultTimeout bounds one HTTP request to a cloud API.
const DefaultTimeout = 60 * time.Second

// ErrCredentials: there is neither a token nor operator credentials, or
// Keystone refused them.
var ErrCredentials = errors.New("no usable OpenStack credentials")

// Config says which cloud the plugins act in.
type Config struct {
	AuthURL   string // Keystone v3, for tokens that do not say where they are from
	Region    string
	Interface string // public, internal or admin
	Cloud     string // clouds.yaml entry of the operator's credentials
	Timeout   time.Duration
	// Env reads OS_* variables (nil: the process environment).
	Env func(string) (string, bool)
}

// ConfigFrom reads the [openstack_client] section, defaulting to the OS_*
// variables of the file's environment (conf.File.LookupEnv).
func ConfigFrom(cfg *conf.File) (Config, error) {
	env := cfg.LookupEnv
	get := func(k string) string { v, _ := env(k); return v }
	c := Config{
		AuthURL:   cfg.String(Section, "auth_url", get("OS_AUTH_URL")),
		Region:    cfg.String(Section, "region_name", get("OS_REGION_NAME")),
		Interface: cfg.String(Section, "interface", get("OS_INTERFACE")),
		Cloud:     cfg.String(Section, "cloud", get("OS_CLOUD")),
		Env:       env,
	}
	var err error
	if c.Timeout, err = cfg.Seconds(Section, "request_timeout", DefaultTimeout); err != nil {
		return c, err
	}
	switch strings.TrimSuffix(c.Interface, "URL") {
	case "", "public", "internal", "admin":
	default:
		return c, cfg.Errorf(Section, "interface", "%q: want public, internal or admin", c.Interface)
	}
	return c, nil
}

// Cloud connects hooks and protectables to the cloud of a Config. It holds
// no connection: every Connect authenticates anew, as a stateless function
// must.
type Cloud struct{ cfg Config }

// NewCloud returns the Cloud of cfg.
func NewCloud(cfg Config) *Cloud {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Env == nil {
		cfg.Env = os.LookupEnv
	}
	return &Cloud{cfg: cfg}
}

// Clients are one authenticated session: the service clients and the
// project the credentials are scoped to.
type Clients struct {
	Provider    *gophercloud.ProviderClient
	Endpoint    gophercloud.EndpointOpts
	ProjectID   string
	ProjectName string
	UserID      string
}

// Connect authenticates with cred: its token if it has one, else the
// operator's credentials.
func (c *Cloud) Connect(ctx context.Context, cred protection.Credentials) (*Clients, error) {
	var (
		opts gophercloud.AuthOptions
		eo   = gophercloud.EndpointOpts{Region: c.cfg.Region, Availability: availability(c.cfg.Interface)}
	)
	switch {
	case cred.Token != "":
		opts = gophercloud.AuthOptions{IdentityEndpoint: cmpOr(cred.AuthURL, c.cfg.AuthURL), TokenID: cred.Token}
		if opts.IdentityEndpoint == "" {
			return nil, fmt.Errorf("%w: a token but no Keystone URL (set auth_url in [%s] or OS_AUTH_URL)", ErrCredentials, Section)
		}
	case c.cfg.Cloud != "":
		ao, ceo, _, err := clouds.Parse(clouds.WithCloudName(c.cfg.Cloud))
		if err != nil {
			return nil, fmt.Errorf("%w: clouds.yaml cloud %q: %w", ErrCredentials, c.cfg.Cloud, err)
		}
		opts, eo = ao, mergeEndpoint(ceo, eo)
		opts.AllowReauth = true
	default:
		ao, err := authFromEnv(c.cfg.Env)
		if err != nil {
			return nil, fmt.Errorf("%w: no token, no cloud in [%s]: %w", ErrCredentials, Section, err)
		}
		opts = ao
	}
	pc, err := gos.NewClient(opts.IdentityEndpoint)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCredentials, err)
	}
	pc.HTTPClient = http.Client{Timeout: c.cfg.Timeout}
	if err := gos.Authenticate(ctx, pc, opts); err != nil {
		if gophercloud.ResponseCodeIs(err, http.StatusUnauthorized) || gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
			return nil, fmt.Errorf("%w: keystone %s: %w", ErrCredentials, opts.IdentityEndpoint, err)
		}
		return nil, protection.Transient(fmt.Errorf("keystone %s: %w", opts.IdentityEndpoint, err))
	}
	cl := &Clients{Provider: pc, Endpoint: eo}
	if r, ok := pc.GetAuthResult().(interface {
		ExtractProject() (*tokens.Project, error)
		ExtractUser() (*tokens.User, error)
	}); ok {
		if p, err := r.ExtractProject(); err == nil && p != nil {
			cl.ProjectID, cl.ProjectName = p.ID, p.Name
		}
		if u, err := r.ExtractUser(); err == nil && u != nil {
			cl.UserID = u.ID
		}
	}
	if cl.ProjectID == "" {
		return nil, fmt.Errorf("%w: the token is not scoped to a project", ErrCredentials)
	}
	return cl, nil
}

// authFromEnv reads the operator's password or application credential
// from OS_* variables, as the openstack CLI does.
func authFromEnv(env func(string) (string, bool)) (gophercloud.AuthOptions, error) {
	get := func(keys ...string) string {
		for _, k := range keys {
			if v, ok := env(k); ok && v != "" {
				return v
			}
		}
		return ""
	}
	o := gophercloud.AuthOptions{
		IdentityEndpoint:            get("OS_AUTH_URL"),
		Username:                    get("OS_USERNAME"),
		UserID:                      get("OS_USER_ID"),
		Password:                    get("OS_PASSWORD"),
		DomainName:                  get("OS_USER_DOMAIN_NAME", "OS_DOMAIN_NAME"),
		DomainID:                    get("OS_USER_DOMAIN_ID", "OS_DOMAIN_ID"),
		ApplicationCredentialID:     get("OS_APPLICATION_CREDENTIAL_ID"),
		ApplicationCredentialName:   get("OS_APPLICATION_CREDENTIAL_NAME"),
		ApplicationCredentialSecret: get("OS_APPLICATION_CREDENTIAL_SECRET"),
		AllowReauth:                 true,
	}
	if o.IdentityEndpoint == "" {
		return o, errors.New("OS_AUTH_URL is not set")
	}
	if o.ApplicationCredentialID == "" && o.ApplicationCredentialName == "" {
		if o.Password == "" || (o.Username == "" && o.UserID == "") {
			return o, errors.New("OS_USERNAME and OS_PASSWORD (or an application credential) are not set")
		}
		project, projectID := get("OS_PROJECT_NAME", "OS_TENANT_NAME"), get("OS_PROJECT_ID", "OS_TENANT_ID")
		if project == "" && projectID == "" {
			return o, errors.New("OS_PROJECT_NAME or OS_PROJECT_ID is not set")
		}
		o.Scope = &gophercloud.AuthScope{ProjectID: projectID, ProjectName: project}
		if projectID == "" {
			o.Scope.DomainName = get("OS_PROJECT_DOMAIN_NAME", "OS_DOMAIN_NAME")
			o.Scope.DomainID = get("OS_PROJECT_DOMAIN_ID", "OS_DOMAIN_ID")
			if o.Scope.DomainName == "" && o.Scope.DomainID == "" {
				o.Scope.DomainName = "Default"
			}
		}
		if o.DomainName == "" && o.DomainID == "" && o.UserID == "" {
			o.DomainName = "Default"
		}
	}
	return o, nil
}

func mergeEndpoint(from, def gophercloud.EndpointOpts) gophercloud.EndpointOpts {
	if def.Region == "" {
		def.Region = from.Region
	}
	if from.Availability != "" {
		def.Availability = from.Availability
	}
	return def
}

func availability(iface string) gophercloud.Availability {
	switch strings.TrimSuffix(iface, "URL") {
	case "internal":
		return gophercloud.AvailabilityInternal
	case "admin":
		return gophercloud.AvailabilityAdmin
	}
	return gophercloud.AvailabilityPublic
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Compute is Nova's API (microversion 2.1: a server shows its flavor's id).
func (cl *Clients) Compute() (*gophercloud.ServiceClient, error) {
	return service(gos.NewComputeV2(cl.Provider, cl.Endpoint))
}

// BlockStorage is Cinder's v3 API.
func (cl *Clients) BlockStorage() (*gophercloud.ServiceClient, error) {
	return service(gos.NewBlockStorageV3(cl.Provider, cl.Endpoint))
}

// Image is Glance's v2 API.
func (cl *Clients) Image() (*gophercloud.ServiceClient, error) {
	return service(gos.NewImageV2(cl.Provider, cl.Endpoint))
}

// Network is Neutron's v2 API.
func (cl *Clients) Network() (*gophercloud.ServiceClient, error) {
	return service(gos.NewNetworkV2(cl.Provider, cl.Endpoint))
}

// Identity is Keystone's v3 API.
func (cl *Clients) Identity() (*gophercloud.ServiceClient, error) {
	return service(gos.NewIdentityV3(cl.Provider, cl.Endpoint))
}

func service(sc *gophercloud.ServiceClient, err error) (*gophercloud.ServiceClient, error) {
	if err != nil {
		return nil, fmt.Errorf("service catalog: %w", err)
	}
	return sc, nil
}
