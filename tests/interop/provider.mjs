// An OpenID Connect provider on loopback, shaped like WorkOS Connect (and AuthKit as an MCP
// authorization server) for the interop tests:
// - /oauth2/authorize, /oauth2/token and /oauth2/jwks, a public client that must use PKCE S256,
//   a confidential client (client_secret_post), and refresh tokens for offline_access;
// - Dynamic Client Registration (RFC 7591) at /oauth2/register, open (no initial access token);
//   public clients (`none`) registered there must use PKCE like the static one;
// - resource indicators (RFC 8707) for resource servers on loopback (any
//   http://127.0.0.1:<port>/mcp, or /api for the actix-api example), whose access tokens are JWTs with that resource as `aud` and scopes mcp:tools, mcp:read and
//   mcp:admin (which a tool may need beyond the others, for step-up); any
//   other resource is invalid_target; the static client short-lived-app gets them for 1 second;
// - the discovery document at RFC 8414's /.well-known/oauth-authorization-server as well as at
//   /.well-known/openid-configuration.
//
// - the device authorization grant (RFC 8628) at /oauth2/device_authorization with the user's page
//   at /device, for the public client cli-app (and cli-expiring, whose codes last 2 seconds); its
//   answers carry `interval` (DEVICE_INTERVAL seconds, as AuthKit's carry 5), and a poll sooner
//   than that after the last one is answered `slow_down`;
// - userinfo at /oauth2/userinfo;
// - DPoP (RFC 9449), on by default in oidc-provider: a token request with a `DPoP` proof gets an
//   access token bound to the proof's key (`cnf.jkt`, `token_type` DPoP), no nonce demanded.
// - renewing-app, a public client whose login access tokens last 30 seconds, and a count of the
//   refresh_token grants each client sent, at /test/refreshes/<client_id>;
// - strict-app, a public client for which the provider is oidc-provider as it stands: no
//   refresh token for offline_access without `prompt=consent` (OpenID Connect Core section 11).
//
// PORT selects the port, REDIRECT_URI the static clients' redirect URI. Prints
// `listening <issuer>` once ready.
import Provider, { errors } from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const redirectUri = process.env.REDIRECT_URI;
// The axum-login example's callback, for the scenario that runs it.
const appRedirectUri = process.env.APP_REDIRECT_URI;
// A resource server's identifier: each scenario that runs one picks a free port.
const isMcpResource = (indicator) => /^http:\/\/127\.0\.0\.1:[0-9]+\/(mcp|api)$/.test(indicator);

// The lifetime of renewing-app's access tokens from a login, in seconds.
const RENEWING_LOGIN_TTL = 30;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'public-app',
      token_endpoint_auth_method: 'none',
      redirect_uris: appRedirectUri ? [redirectUri, appRedirectUri] : [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      application_type: 'native',
    },
    {
      // The axum-login example for the parallel renewals: its logins' access tokens expire within
      // the example's refresh margin (see ttl.AccessToken), its refreshed ones well after it. As a
      // public client, its refresh tokens rotate, and a rotated one redeemed again revokes the
      // grant (oidc-provider's reuse detection, RFC 9700 section 4.14.2).
      client_id: 'renewing-app',
      token_endpoint_auth_method: 'none',
      redirect_uris: appRedirectUri ? [appRedirectUri] : [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      application_type: 'native',
    },
    {
      // Logs in as OpenID Connect Core section 11 has it, not as WorkOS does: see the middleware
      // adding `prompt=consent` below, which leaves it out.
      client_id: 'strict-app',
      token_endpoint_auth_method: 'none',
      redirect_uris: appRedirectUri ? [redirectUri, appRedirectUri] : [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      application_type: 'native',
    },
    ...['cli-app', 'cli-expiring'].map((clientId) => ({
      client_id: clientId,
      token_endpoint_auth_method: 'none',
      redirect_uris: [],
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
      response_types: [],
      application_type: 'native',
    })),
    {
      // Its access tokens for MCP servers expire a second after they are issued.
      client_id: 'short-lived-app',
      token_endpoint_auth_method: 'none',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      application_type: 'native',
    },
    {
      client_id: 'confidential-app',
      client_secret: 'confidential-app-secret',
      token_endpoint_auth_method: 'client_secret_post',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      application_type: 'native',
    },
  ],
  routes: {
    authorization: '/oauth2/authorize',
    token: '/oauth2/token',
    jwks: '/oauth2/jwks',
    registration: '/oauth2/register',
    device_authorization: '/oauth2/device_authorization',
    code_verification: '/device',
    userinfo: '/oauth2/userinfo',
  },
  ttl: {
    AccessToken(ctx, token, client) {
      if (token.resourceServer) {
        return token.resourceServer.accessTokenTTL ?? 3600;
      }
      const refreshed = ctx?.oidc?.params?.grant_type === 'refresh_token';
      return client?.clientId === 'renewing-app' && !refreshed ? RENEWING_LOGIN_TTL : 3600;
    },
    DeviceCode: (ctx, token, client) => (client.clientId === 'cli-expiring' ? 2 : 300),
  },
  scopes: ['openid', 'profile', 'email', 'offline_access', 'mcp:tools', 'mcp:read', 'mcp:admin'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name'],
  },
  // WorkOS puts the scopes' claims in the ID token itself.
  conformIdTokenClaims: false,
  pkce: { required: (ctx, client) => client.tokenEndpointAuthMethod === 'none' },
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    // Open registration, as AuthKit offers MCP clients when enabled in its dashboard.
    registration: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // The default `defaultResource` picks none when none is asked for: logins without `resource`
      // get opaque access tokens for the userinfo endpoint, as before.
      // A token request (code or refresh) without `resource` gets the login's.
      useGrantedResource: () => true,
      // Only MCP servers are resource servers here; AuthKit refuses unregistered resources too.
      async getResourceServerInfo(ctx, resourceIndicator, client) {
        if (isMcpResource(resourceIndicator)) {
          return {
            scope: 'mcp:tools mcp:read mcp:admin',
            audience: resourceIndicator,
            accessTokenTTL: client.clientId === 'short-lived-app' ? 1 : 3600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        }
        throw new errors.InvalidTarget();
      },
    },
  },
  cookies: { keys: ['interop-test-cookie-key'] },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email: `${id}@example.com`,
          email_verified: true,
          name: 'Ada Lovelace',
          given_name: 'Ada',
          family_name: 'Lovelace',
        };
      },
    };
  },
});

// WorkOS issues a refresh token for offline_access without `prompt=consent`; oidc-provider follows
// OpenID Connect Core section 11 and drops the scope without it, so add the prompt here, for every
// client but strict-app, whose logins send the prompt themselves.
provider.use(async (ctx, next) => {
  if (ctx.path === '/oauth2/authorize' && ctx.query.client_id !== 'strict-app') {
    const scope = ctx.query.scope ?? '';
    if (scope.split(' ').includes('offline_access') && !ctx.query.prompt) {
      ctx.query = { ...ctx.query, prompt: 'consent' };
    }
  }
  await next();
});

// oidc-provider serves its metadata only at OpenID Connect Discovery's path; MCP clients look at
// RFC 8414's first. Same document (it lists code_challenge_methods_supported: ["S256"]).
provider.use(async (ctx, next) => {
  if (ctx.path === '/.well-known/oauth-authorization-server') {
    ctx.path = '/.well-known/openid-configuration';
  }
  await next();
});

// AuthKit's device authorization answers carry `interval`; oidc-provider's do not.
const deviceInterval = Number(process.env.DEVICE_INTERVAL ?? 1);
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path === '/oauth2/device_authorization' && ctx.body?.device_code) {
    ctx.body = { ...ctx.body, interval: deviceInterval };
  }
});

// RFC 8628 section 3.5: a device polling sooner than the interval is told to slow down.
const lastPoll = new Map();
provider.use(async (ctx, next) => {
  await next();
  const deviceCode = ctx.oidc?.params?.device_code;
  if (ctx.path !== '/oauth2/token' || !deviceCode || ctx.body?.error !== 'authorization_pending') {
    return;
  }
  const now = Date.now();
  const last = lastPoll.get(deviceCode);
  lastPoll.set(deviceCode, now);
  if (last !== undefined && now - last < deviceInterval * 1000) {
    ctx.body = { error: 'slow_down', error_description: 'polled sooner than the interval' };
  }
});

// The refresh_token grants each client sent, granted and refused, for the scenarios that count
// them: GET /test/refreshes/<client_id> answers {"granted": n, "refused": m}.
const refreshes = new Map();
provider.use(async (ctx, next) => {
  const counted = ctx.path.match(/^\/test\/refreshes\/([^/]+)$/);
  if (counted) {
    ctx.body = refreshes.get(decodeURIComponent(counted[1])) ?? { granted: 0, refused: 0 };
    return;
  }
  await next();
  const params = ctx.oidc?.params;
  if (ctx.path !== '/oauth2/token' || params?.grant_type !== 'refresh_token') {
    return;
  }
  const clientId = ctx.oidc.client?.clientId ?? params.client_id ?? '';
  const count = refreshes.get(clientId) ?? { granted: 0, refused: 0 };
  if (ctx.status === 200) {
    count.granted += 1;
  } else {
    count.refused += 1;
  }
  refreshes.set(clientId, count);
});

// The test keeps stdin open while it runs; its end, at the test process's exit, ends the provider.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

provider.listen(port, '127.0.0.1', () => {
  console.log(`listening ${issuer}`);
});
