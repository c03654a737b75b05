// An OpenID Connect provider on loopback, shaped like WorkOS Connect for the interop tests:
// /oauth2/authorize, /oauth2/token and /oauth2/jwks, a public client that must use PKCE S256,
// a confidential client (client_secret_post), and refresh tokens for offline_access.
//
// PORT selects the port. Prints `listening <issuer>` once ready.
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const redirectUri = process.env.REDIRECT_URI;
// The axum-login example's callback, for the scenario that runs it.
const appRedirectUri = process.env.APP_REDIRECT_URI;

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
      client_id: 'confidential-app',
      client_secret: 'confidential-app-secret',
      token_endpoint_auth_method: 'client_secret_post',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      application_type: 'native',
    },
  ],
  routes: { authorization: '/oauth2/authorize', token: '/oauth2/token', jwks: '/oauth2/jwks' },
  scopes: ['openid', 'profile', 'email', 'offline_access'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name'],
  },
  // WorkOS puts the scopes' claims in the ID token itself.
  conformIdTokenClaims: false,
  pkce: { required: (ctx, client) => client.tokenEndpointAuthMethod === 'none' },
  features: { devInteractions: { enabled: true } },
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
// OpenID Connect Core section 11 and drops the scope without it, so add the prompt here.
provider.use(async (ctx, next) => {
  if (ctx.path === '/oauth2/authorize') {
    const scope = ctx.query.scope ?? '';
    if (scope.split(' ').includes('offline_access') && !ctx.query.prompt) {
      ctx.query = { ...ctx.query, prompt: 'consent' };
    }
  }
  await next();
});

// The test keeps stdin open while it runs; its end, at the test process's exit, ends the provider.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

provider.listen(port, '127.0.0.1', () => {
  console.log(`listening ${issuer}`);
});
