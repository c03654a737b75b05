// The official MCP TypeScript SDK's client, v1 (`@modelcontextprotocol/sdk`) or v2
// (`@modelcontextprotocol/client`), logging in to an MCP server with the SDK's own OAuth code: it
// meets the server's 401, reads the protected resource metadata, finds the authorization server,
// registers (Dynamic Client Registration), logs in with PKCE and a resource indicator, and calls
// the `whoami` tool. The user's part (the provider's login and consent pages) is played headlessly
// with a cookie jar, as in interop.rs.
//
// Then, each in a phase of its own, whose outcome is reported rather than thrown:
// - `step_up`: calls `scopes`, which the server started with `--tool-scope scopes=mcp:admin`
//   answers 403 `insufficient_scope`; the SDK must authorize again with the scopes the challenge
//   names, after which the call must succeed;
// - `wrong_audience` and `forged`: the SDK starts from a stored token the server must refuse (one
//   for another resource, one signed by a key the provider never published: the environment's
//   WRONG_AUDIENCE_TOKEN and FORGED_TOKEN); the server's refusal is recorded, and the SDK must log
//   in again and call `whoami`.
//
// Usage: node sdk-client.mjs <v1|v2> <MCP server URL> [--dpop]. `--dpop` (v2 only) has the SDK bind
// its tokens to a DPoP key (RFC 9449). Prints one JSON line.
const [version, server, ...flags] = process.argv.slice(2);
const serverUrl = new URL(server);
const dpop = flags.includes('--dpop');

const sdk =
  version === 'v1'
    ? {
        ...(await import('@modelcontextprotocol/sdk/client/index.js')),
        ...(await import('@modelcontextprotocol/sdk/client/streamableHttp.js')),
        ...(await import('@modelcontextprotocol/sdk/client/auth.js')),
      }
    : await import('@modelcontextprotocol/client');
const { Client, StreamableHTTPClientTransport, UnauthorizedError } = sdk;
if (dpop && !sdk.DpopSession) throw new Error(`the ${version} SDK has no DPoP support`);

// Nothing listens here: the browser's part ends at the redirect, whose code is read from it.
const redirectUrl = 'http://127.0.0.1:9/sdk-callback';

/** Follows the provider's redirects and forms, as a user who logs in and consents. */
async function browse(authorizationUrl) {
  const cookies = new Map();
  let url = new URL(authorizationUrl);
  let form;
  for (let hop = 0; hop < 20; hop += 1) {
    const response = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; '),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    form = undefined;
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair.indexOf('=');
      cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
    }
    const location = response.headers.get('location');
    if (location) {
      url = new URL(location, url);
      if (url.href.startsWith(redirectUrl)) return url;
      continue;
    }
    const page = await response.text();
    if (!response.ok) throw new Error(`HTTP ${response.status}: ${page}`);
    const action = page.match(/action="([^"]+)"/)?.[1];
    if (!action) throw new Error(`no form on the page: ${page}`);
    url = new URL(action, url);
    form = page.includes('name="login"')
      ? { prompt: 'login', login: 'user_01', password: 'any' }
      : { prompt: 'consent' };
  }
  throw new Error('the provider never redirected back');
}

// What the SDK stored and did, across phases: one registration, one DPoP key.
const saved = {};
const dpopSession = dpop ? await sdk.DpopSession.create() : undefined;
// Each authorization the SDK started: the scope it asked for, and where the browser came back.
const authorizations = [];
// The MCP endpoint's answers other than 2xx: status and challenge.
const refusals = [];

const authProvider = {
  get redirectUrl() {
    return redirectUrl;
  },
  get clientMetadata() {
    return {
      client_name: `MCP TypeScript SDK ${version} interop`,
      redirect_uris: [redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  },
  clientInformation: () => saved.client,
  saveClientInformation: (client) => {
    saved.client = client;
  },
  tokens: () => saved.tokens,
  saveTokens: (tokens) => {
    saved.tokens = tokens;
  },
  saveCodeVerifier: (verifier) => {
    saved.verifier = verifier;
  },
  codeVerifier: () => saved.verifier,
  // v2: the authorization server a login started with, checked again when it ends (SEP-2352).
  saveDiscoveryState: (state) => {
    saved.discovery = state;
  },
  discoveryState: () => saved.discovery,
  redirectToAuthorization: async (authorizationUrl) => {
    const callback = await browse(authorizationUrl);
    authorizations.push({ scope: authorizationUrl.searchParams.get('scope'), callback });
  },
  ...(dpop ? { dpop: () => dpopSession } : {}),
};

/** fetch, recording the MCP endpoint's refusals. */
async function recordingFetch(url, init) {
  const response = await fetch(url, init);
  if (String(url) === serverUrl.href && !response.ok) {
    refusals.push({
      status: response.status,
      challenge: response.headers.get('www-authenticate'),
    });
  }
  return response;
}

function transport() {
  return new StreamableHTTPClientTransport(serverUrl, { authProvider, fetch: recordingFetch });
}

async function connect(into = transport()) {
  const client = new Client({ name: 'workos-connect-interop', version: '0.0.0' });
  await client.connect(into);
  return client;
}

/** Ends the login the SDK started: the code (and `iss`) from the last callback, handed back. */
async function finishLogin(into) {
  const { callback } = authorizations.at(-1);
  const refusal = callback.searchParams.get('error');
  if (refusal) throw new Error(`the login failed: ${refusal}`);
  if (version === 'v1') {
    await into.finishAuth(callback.searchParams.get('code'));
  } else {
    await into.finishAuth(callback.searchParams);
  }
}

/** Connects, logging in when the SDK says it must: the client and how many logins it took. */
async function connectLoggingIn() {
  const before = authorizations.length;
  try {
    return { client: await connect(), logins: 0 };
  } catch (error) {
    if (!(error instanceof UnauthorizedError) || authorizations.length === before) throw error;
  }
  await finishLogin(transport());
  return { client: await connect(), logins: 1 };
}

const text = (result) => result.content.map((part) => part.text).join('');
const failure = (error) => `${error?.constructor?.name}: ${error?.message}`;

const report = { sdk: version, dpop };

// Login and a tool call.
const first = await connectLoggingIn();
if (first.logins !== 1) throw new Error('the server let the SDK in without a token');
report.protocol_version =
  first.client.getNegotiatedProtocolVersion?.() ?? first.client.transport?.protocolVersion;
const { tools } = await first.client.listTools();
report.tools = tools.map((tool) => tool.name).sort();
report.text = text(await first.client.callTool({ name: 'whoami', arguments: {} }));
report.client_id = saved.client?.client_id;
report.scope = saved.tokens?.scope;
report.token_type = saved.tokens?.token_type;
report.refresh_token = Boolean(saved.tokens?.refresh_token);

// Step-up: a tool needing mcp:admin, with a token for mcp:tools.
{
  const step = { refusals: refusals.length, authorizations: authorizations.length };
  try {
    try {
      step.text = text(await first.client.callTool({ name: 'scopes', arguments: {} }));
      step.logins = 0;
    } catch (error) {
      if (!(error instanceof UnauthorizedError) || authorizations.length === step.authorizations) {
        throw error;
      }
      // The SDK started a login with wider scope; the app ends it and calls again.
      await finishLogin(transport());
      const client = await connect();
      step.text = text(await client.callTool({ name: 'scopes', arguments: {} }));
      step.logins = 1;
      await client.close();
    }
  } catch (error) {
    step.error = failure(error);
  }
  step.refusals = refusals.slice(step.refusals);
  step.scopes_asked = authorizations.slice(step.authorizations).map((login) => login.scope);
  step.scope = saved.tokens?.scope;
  delete step.authorizations;
  report.step_up = step;
}
await first.client.close();

// A stored token the server must refuse: the SDK must log in again.
for (const [phase, token] of [
  ['wrong_audience', process.env.WRONG_AUDIENCE_TOKEN],
  ['forged', process.env.FORGED_TOKEN],
]) {
  if (!token) continue;
  const step = { refusals: refusals.length };
  saved.tokens = { access_token: token, token_type: dpop ? 'DPoP' : 'Bearer' };
  try {
    const { client, logins } = await connectLoggingIn();
    step.logins = logins;
    step.text = text(await client.callTool({ name: 'whoami', arguments: {} }));
    await client.close();
  } catch (error) {
    step.error = failure(error);
  }
  step.refusals = refusals.slice(step.refusals);
  report[phase] = step;
}

console.log(JSON.stringify(report));
