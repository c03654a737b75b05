"""A protected MCP server made with the official MCP Python SDK (MCPServer): its auth settings make
it a resource server for the authorization server `--issuer`, serving its protected resource
metadata (RFC 9728) and refusing requests without a token its TokenVerifier takes. The verifier
checks a JWT access token (RFC 9068) against the issuer's JWKS: signature, issuer, audience (the
resource URL) and expiry; the server requires the scope mcp:tools. Tools: whoami, which says whose
token it was, and scopes.

Usage: python sdk_server.py --issuer <URL> --port <port>; serves http://127.0.0.1:<port>/mcp.
"""

import argparse

import anyio
import jwt
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer

from serve import serve


class JwtVerifier:
    """The SDK's TokenVerifier, for JWT access tokens signed by the issuer's keys."""

    def __init__(self, issuer: str, resource: str):
        self.issuer = issuer
        self.resource = resource
        self.keys = jwt.PyJWKClient(f"{issuer}/oauth2/jwks", cache_keys=True)

    def _verify(self, token: str) -> AccessToken | None:
        try:
            key = self.keys.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                audience=self.resource,
                issuer=self.issuer,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError:
            return None
        return AccessToken(
            token=token,
            client_id=claims.get("client_id", ""),
            scopes=claims.get("scope", "").split(),
            expires_at=claims["exp"],
            resource=self.resource,
            subject=claims["sub"],
            claims={"iss": claims["iss"]},
        )

    async def verify_token(self, token: str) -> AccessToken | None:
        # PyJWKClient fetches the keys with blocking I/O.
        return await anyio.to_thread.run_sync(self._verify, token)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    resource = f"http://127.0.0.1:{args.port}/mcp"

    server = MCPServer(
        "python-sdk-interop",
        token_verifier=JwtVerifier(args.issuer, resource),
        auth=AuthSettings(
            issuer_url=args.issuer,
            resource_server_url=resource,
            required_scopes=["mcp:tools"],
            validate_token_resource=True,
        ),
        log_level="WARNING",
    )

    @server.tool()
    def whoami() -> str:
        """Who the access token was issued to."""
        token = get_access_token()
        return f"sub {token.subject} (client {token.client_id})" if token else "no access token"

    @server.tool()
    def scopes() -> str:
        """The scopes the access token grants."""
        token = get_access_token()
        return " ".join(token.scopes) if token else "no access token"

    serve(server.streamable_http_app(), args.port, resource)


main()
