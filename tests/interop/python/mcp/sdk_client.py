"""The official MCP Python SDK's client, logging in to an MCP server with the SDK's own OAuth client
provider (OAuthClientProvider): on the server's 401 (or 403 insufficient_scope) it reads the
protected resource metadata, the authorization server's metadata, registers (Dynamic Client
Registration), logs in with PKCE and a resource indicator, and retries. The user's part is played
by headless.browse; the SDK's redirect handler is given the authorization URL, its callback handler
the code from the redirect.

Usage: python sdk_client.py <MCP server URL> [--token <access token to start with>
[--token-scope <its scope>]] [--tool <name>]
Prints one JSON line: the tools listed, the tool's text, the requests to the MCP endpoint (status,
challenge, token sent), the logins (scope and resource asked for), the registrations, and the final
token's scope; and the error that ended it, if one did.
"""

import argparse
import asyncio
import json
from urllib.parse import parse_qs, urlparse

import httpx2
from mcp import Client
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

from headless import browse

# Nothing listens here: the browser's part ends at the redirect, whose code is read from it.
REDIRECT_URI = "http://127.0.0.1:9/sdk-callback"


class Storage:
    """In memory, optionally holding a token from an earlier login at the start."""

    def __init__(self, token: str | None, scope: str | None):
        self.tokens = OAuthToken(access_token=token, token_type="Bearer", scope=scope) if token else None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("server")
    parser.add_argument("--token")
    parser.add_argument("--token-scope")
    parser.add_argument("--tool", default="whoami")
    args = parser.parse_args()

    report: dict = {"exchanges": [], "logins": [], "registrations": 0, "sent": []}
    callbacks: list[str] = []

    async def redirect_handler(authorization_url: str) -> None:
        query = parse_qs(urlparse(authorization_url).query)
        report["logins"].append(
            {"scope": query.get("scope", [None])[0], "resource": query.get("resource", [None])[0]}
        )
        # The SDK awaits this inside its HTTP client's auth flow; the user's part is blocking I/O.
        callbacks.append(await asyncio.to_thread(browse, authorization_url, REDIRECT_URI))

    async def callback_handler() -> AuthorizationCodeResult:
        query = parse_qs(urlparse(callbacks[-1]).query)
        if "error" in query:
            report["logins"][-1]["error"] = query["error"][0]
            raise RuntimeError(f"the login failed: {query['error'][0]}")
        return AuthorizationCodeResult(
            code=query["code"][0], state=query.get("state", [None])[0], iss=query.get("iss", [None])[0]
        )

    async def sending(request: httpx2.Request) -> None:
        report["sent"].append(f"{request.method} {request.url}")

    async def seen(response: httpx2.Response) -> None:
        request = response.request
        if str(request.url) == args.server:
            authorization = request.headers.get("authorization", "")
            report["exchanges"].append(
                {
                    "status": response.status_code,
                    "challenge": response.headers.get("www-authenticate"),
                    "token": authorization.removeprefix("Bearer ") or None,
                }
            )
        elif request.method == "POST" and request.url.path.endswith("/register"):
            report["registrations"] += 1
            report["registered_scope"] = json.loads(request.content).get("scope")

    storage = Storage(args.token, args.token_scope)
    auth = OAuthClientProvider(
        server_url=args.server,
        client_metadata=OAuthClientMetadata(
            client_name="MCP Python SDK interop",
            redirect_uris=[REDIRECT_URI],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
    )
    try:
        async with httpx2.AsyncClient(auth=auth, event_hooks={"request": [sending], "response": [seen]}, timeout=30) as http:
            async with Client(streamable_http_client(args.server, http_client=http)) as client:
                tools = await client.list_tools()
                report["tools"] = [tool.name for tool in tools.tools]
                result = await client.call_tool(args.tool, {})
                report["text"] = "".join(getattr(part, "text", "") for part in result.content)
                report["is_error"] = bool(result.is_error)
    except Exception as error:  # noqa: BLE001 - reported, for the test to judge
        report["error"] = repr(error)
    report["client_id"] = storage.client.client_id if storage.client else None
    report["scope"] = storage.tokens.scope if storage.tokens else None
    print(json.dumps(report))


asyncio.run(main())
