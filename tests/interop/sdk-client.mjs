// The official MCP TypeScript SDK's client, logging in to an MCP server with the SDK's own OAuth
// code: it meets the server's 401, reads the protected resource metadata, finds the authorization
// server, registers (Dynamic Client Registration), logs in with PKCE and a resource indicator, and
// calls the `whoami` tool. The user's part (the provider's login and consent pages) is played
// headlessly with a cookie jar, as in interop.rs.
//
// Usage: node sdk-client.mjs <MCP server URL>. Prints one JSON line: the tools listed, the tool's
// text, the registered client's ID and the scope of the token the SDK got.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';

const serverUrl = new URL(process.argv[2]);
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

let callback;
const saved = {};
const authProvider = {
  get redirectUrl() {
    return redirectUrl;
  },
  get clientMetadata() {
    return {
      client_name: 'MCP TypeScript SDK interop',
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
  redirectToAuthorization: async (authorizationUrl) => {
    callback = await browse(authorizationUrl);
  },
};

async function connect() {
  const transport = new StreamableHTTPClientTransport(serverUrl, { authProvider });
  const client = new Client({ name: 'workos-connect-interop', version: '0.0.0' });
  await client.connect(transport);
  return client;
}

let client;
try {
  client = await connect();
} catch (error) {
  if (!(error instanceof UnauthorizedError)) throw error;
}
if (client) throw new Error('the server let the SDK in without a token');
const refusal = callback.searchParams.get('error');
if (refusal) throw new Error(`the login failed: ${refusal}`);
await new StreamableHTTPClientTransport(serverUrl, { authProvider }).finishAuth(
  callback.searchParams.get('code'),
);
client = await connect();
const { tools } = await client.listTools();
const result = await client.callTool({ name: 'whoami', arguments: {} });
console.log(
  JSON.stringify({
    tools: tools.map((tool) => tool.name),
    text: result.content.map((part) => part.text).join(''),
    client_id: saved.client?.client_id,
    scope: saved.tokens?.scope,
  }),
);
await client.close();
