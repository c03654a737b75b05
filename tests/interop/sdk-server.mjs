// A protected MCP server made with the official MCP TypeScript SDK, v1 (`@modelcontextprotocol/sdk`,
// Express) or v2 (`@modelcontextprotocol/server`, web-standard handlers on node:http), with the
// SDK's own bearer-token middleware and protected resource metadata (RFC 9728). Its token
// verification is its own, as the SDK leaves it to the server: a JWT access token (RFC 9068)
// checked with the provider's JWKS (`jose`) for its issuer, its audience (this server's URL) and
// its expiry. Two tools: `whoami`, which every token for `mcp:tools` may call, and `scopes`, which
// also needs `mcp:admin` and answers a token without it with 403 `insufficient_scope` (step-up):
// v1 through its bearer middleware with both scopes required, v2 through the tool's own scope
// challenge (`requireScopes`), which names only the scope the tool needs (SEP-2350).
//
// Usage: node sdk-server.mjs <v1|v2> <port> <issuer>. Prints `listening <URL>` once ready.
import http from 'node:http';

import { createRemoteJWKSet, jwtVerify } from 'jose';

const [version, port, issuer] = process.argv.slice(2);
const resource = `http://127.0.0.1:${port}/mcp`;
const resourceUrl = new URL(resource);
const metadataUrl = `http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`;
const keys = createRemoteJWKSet(new URL(`${issuer}/oauth2/jwks`));
const serverMetadata = await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json();

/** The verified token's AuthInfo, or the SDK's invalid_token error made by `invalid`. */
async function verify(token, invalid) {
  let payload;
  try {
    ({ payload } = await jwtVerify(token, keys, {
      issuer,
      audience: resource,
      typ: 'at+jwt',
      requiredClaims: ['exp', 'sub'],
    }));
  } catch (error) {
    throw invalid(`Invalid token: ${error.code ?? error.message}`);
  }
  return {
    token,
    clientId: String(payload.client_id ?? ''),
    scopes: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
    expiresAt: payload.exp,
    resource: resourceUrl,
    extra: { sub: payload.sub },
  };
}

const whoami = (authInfo) => ({
  content: [{ type: 'text', text: `sub ${authInfo?.extra?.sub}` }],
});
const scopes = (authInfo) => ({
  content: [{ type: 'text', text: (authInfo?.scopes ?? []).join(' ') }],
});

let server;
if (version === 'v1') {
  const { default: express } = await import('express');
  const { McpServer } = await import('@modelcontextprotocol/sdk/server/mcp.js');
  const { StreamableHTTPServerTransport } = await import(
    '@modelcontextprotocol/sdk/server/streamableHttp.js'
  );
  const { requireBearerAuth } = await import(
    '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js'
  );
  const { mcpAuthMetadataRouter } = await import('@modelcontextprotocol/sdk/server/auth/router.js');
  const { InvalidTokenError } = await import('@modelcontextprotocol/sdk/server/auth/errors.js');

  const verifier = { verifyAccessToken: (token) => verify(token, (m) => new InvalidTokenError(m)) };
  const gate = (requiredScopes) =>
    requireBearerAuth({ verifier, requiredScopes, resourceMetadataUrl: metadataUrl });
  const base = gate(['mcp:tools']);
  const admin = gate(['mcp:tools', 'mcp:admin']);

  const app = express();
  app.use(
    mcpAuthMetadataRouter({
      oauthMetadata: serverMetadata,
      resourceServerUrl: resourceUrl,
      scopesSupported: ['mcp:tools'],
      resourceName: 'TypeScript SDK v1 interop server',
    }),
  );
  app.post(
    '/mcp',
    express.json(),
    // A call of `scopes` needs both scopes; the middleware's 403 names them.
    (req, res, next) => {
      const call = req.body?.method === 'tools/call' && req.body?.params?.name === 'scopes';
      return (call ? admin : base)(req, res, next);
    },
    async (req, res) => {
      const mcp = new McpServer({ name: 'sdk-v1-interop', version: '0.0.0' });
      // Without an input schema, a v1 tool's callback gets the request's extra alone.
      mcp.registerTool('whoami', { description: 'Who the token is for' }, (extra) =>
        whoami(extra.authInfo),
      );
      mcp.registerTool('scopes', { description: 'The token’s scopes' }, (extra) =>
        scopes(extra.authInfo),
      );
      // Stateless: a transport per request.
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on('close', () => {
        transport.close();
        mcp.close();
      });
      await mcp.connect(transport);
      await transport.handleRequest(req, res, req.body);
    },
  );
  server = http.createServer(app);
} else {
  const {
    McpServer,
    OAuthError,
    OAuthErrorCode,
    createMcpHandler,
    oauthMetadataResponse,
    requireBearerAuth,
    requireScopes,
  } = await import('@modelcontextprotocol/server');

  const verifier = {
    verifyAccessToken: (token) =>
      verify(token, (m) => new OAuthError(OAuthErrorCode.InvalidToken, m)),
  };
  const gate = requireBearerAuth({
    verifier,
    requiredScopes: ['mcp:tools'],
    resourceMetadataUrl: metadataUrl,
  });
  const handler = createMcpHandler(() => {
    const mcp = new McpServer({ name: 'sdk-v2-interop', version: '0.0.0' });
    mcp.registerTool('whoami', { description: 'Who the token is for' }, (ctx) =>
      whoami(ctx.http?.authInfo),
    );
    mcp.registerTool(
      'scopes',
      { description: 'The token’s scopes', scopeChallenge: requireScopes('mcp:admin') },
      (ctx) => scopes(ctx.http?.authInfo),
    );
    return mcp;
  });
  const metadataOptions = {
    oauthMetadata: serverMetadata,
    resourceServerUrl: resourceUrl,
    scopesSupported: ['mcp:tools'],
    resourceName: 'TypeScript SDK v2 interop server',
  };

  /** The web-standard answer to `request`. */
  async function answer(request) {
    const metadata = oauthMetadataResponse(request, metadataOptions);
    if (metadata) return metadata;
    if (new URL(request.url).pathname !== '/mcp') return new Response('not found', { status: 404 });
    const authInfo = await gate(request);
    if (authInfo instanceof Response) return authInfo;
    return handler.fetch(request, { authInfo });
  }

  // node:http to web-standard Request and Response, as @modelcontextprotocol/node would.
  server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = chunks.length ? Buffer.concat(chunks) : undefined;
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      for (const one of [value].flat()) headers.append(name, one);
    }
    const request = new Request(new URL(req.url, resource), {
      method: req.method,
      headers,
      body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body,
    });
    let response;
    try {
      response = await answer(request);
    } catch (error) {
      response = new Response(String(error), { status: 500 });
    }
    res.writeHead(response.status, [...response.headers].flat());
    if (response.body) {
      for await (const chunk of response.body) res.write(chunk);
    }
    res.end();
  });
}

// The test keeps stdin open while it runs; its end, at the test process's exit, ends the server.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

server.listen(Number(port), '127.0.0.1', () => {
  console.log(`listening ${resource}`);
});
