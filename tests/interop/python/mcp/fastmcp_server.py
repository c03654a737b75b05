"""A protected MCP server made with FastMCP: its RemoteAuthProvider makes it a resource server for
the authorization server `--issuer`, serving its protected resource metadata (RFC 9728), and its
JWTVerifier checks JWT access tokens against the issuer's JWKS: signature, issuer, audience (the
resource URL), expiry and the scope mcp:tools. Tools: whoami, which says whose token it was, and
scopes, which needs mcp:admin besides (see --tool-auth).

Usage: python fastmcp_server.py --issuer <URL> --port <port> [--tool-auth component|middleware]
[--issuer-as-url]; serves http://127.0.0.1:<port>/mcp.
"""

import argparse

from fastmcp import FastMCP
from fastmcp.server.auth import RemoteAuthProvider, require_scopes, restrict_tag
from fastmcp.server.auth.providers.jwt import JWTVerifier
from fastmcp.server.dependencies import get_access_token
from fastmcp.server.middleware import AuthMiddleware
from pydantic import AnyHttpUrl

from serve import serve


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--port", type=int, required=True)
    # Where the scopes tool's mcp:admin is checked: on the tool (`auth=`, which hides it from a
    # token without the scope) or in FastMCP's AuthMiddleware (which refuses the call, naming it).
    parser.add_argument("--tool-auth", choices=["component", "middleware"], default="component")
    # The issuer given as the pydantic URL the provider's signature asks for, which FastMCP
    # publishes with a trailing slash, rather than as the string the authorization server uses.
    parser.add_argument("--issuer-as-url", action="store_true")
    args = parser.parse_args()
    base = f"http://127.0.0.1:{args.port}"
    resource = f"{base}/mcp"

    verifier = JWTVerifier(
        jwks_uri=f"{args.issuer}/oauth2/jwks",
        issuer=args.issuer,
        audience=resource,
        algorithm="RS256",
        required_scopes=["mcp:tools"],
    )
    auth = RemoteAuthProvider(
        token_verifier=verifier,
        authorization_servers=[AnyHttpUrl(args.issuer) if args.issuer_as_url else args.issuer],
        base_url=base,
    )
    middleware = []
    if args.tool_auth == "middleware":
        middleware.append(AuthMiddleware(auth=restrict_tag("admin", scopes=["mcp:admin"])))
    server = FastMCP("fastmcp-interop", auth=auth, middleware=middleware)

    @server.tool
    def whoami() -> str:
        """Who the access token was issued to."""
        token = get_access_token()
        return f"sub {token.claims.get('sub')} (client {token.client_id})" if token else "no access token"

    if args.tool_auth == "component":
        scopes_tool = server.tool(auth=require_scopes("mcp:admin"))
    else:
        scopes_tool = server.tool(tags={"admin"})

    @scopes_tool
    def scopes() -> str:
        """The scopes the access token grants."""
        token = get_access_token()
        return " ".join(token.scopes) if token else "no access token"

    serve(server.http_app(path="/mcp"), args.port, resource)


main()
