"""FastMCP's client with its OAuth auth (fastmcp.client.auth.OAuth), logging in to an MCP server:
FastMCP's redirect handler checks the authorization URL and opens a browser at it, and its callback
handler serves the redirect URI on a loopback port of its own until the browser arrives there. The
browser is headless.browse, which plays the user's part and then goes to that redirect URI.

Usage: python fastmcp_client.py <MCP server URL> [--token <access token to start with>
[--token-scope <its scope>]] [--tool <name>]
Prints one JSON line, as sdk_client.py does, with the answers FastMCP's callback server gave.
"""

import argparse
import asyncio
import json
import threading
import time
import warnings
from urllib.parse import parse_qs, urlparse

import httpx2
from fastmcp import Client
from fastmcp.client.auth import OAuth
from fastmcp.client.auth import oauth as fastmcp_oauth
from fastmcp.client.transports import StreamableHttpTransport
from mcp.shared.auth import OAuthToken

from headless import browse


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("server")
    parser.add_argument("--token")
    parser.add_argument("--token-scope")
    parser.add_argument("--tool", default="whoami")
    args = parser.parse_args()
    report: dict = {"exchanges": [], "logins": [], "registrations": 0, "sent": [], "callbacks": []}
    browsers: list[threading.Thread] = []

    def open_browser(authorization_url: str, *_args, **_kwargs) -> bool:
        """Stands in for webbrowser.open: a user who logs in, consents and is sent back."""
        query = parse_qs(urlparse(authorization_url).query)
        redirect_uri = query["redirect_uri"][0]
        report["logins"].append(
            {
                "scope": query.get("scope", [None])[0],
                "resource": query.get("resource", [None])[0],
                "redirect_uri": redirect_uri,
            }
        )

        def user() -> None:
            callback = browse(authorization_url, redirect_uri)
            refusal = parse_qs(urlparse(callback).query).get("error")
            if refusal:
                report["logins"][-1]["error"] = refusal[0]
            # FastMCP starts its callback server after this returns: wait for it to listen.
            for _ in range(100):
                try:
                    answer = httpx2.get(callback, timeout=5)
                    report["callbacks"].append(answer.status_code)
                    return
                except httpx2.ConnectError:
                    time.sleep(0.05)
            report["callbacks"].append("never listened")

        browser = threading.Thread(target=user, daemon=True)
        browser.start()
        browsers.append(browser)
        return True

    fastmcp_oauth.webbrowser.open = open_browser

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

    def http_client(**kwargs) -> httpx2.AsyncClient:
        kwargs.setdefault("timeout", 30)
        return httpx2.AsyncClient(event_hooks={"request": [sending], "response": [seen]}, **kwargs)

    async def run() -> None:
        with warnings.catch_warnings():
            # Its warning that tokens kept in memory are lost at exit: as meant here.
            warnings.simplefilter("ignore")
            auth = OAuth(client_name="FastMCP interop", httpx_client_factory=http_client)
        transport = StreamableHttpTransport(args.server, auth=auth, httpx_client_factory=http_client)
        if args.token:
            await auth.token_storage_adapter.set_tokens(
                OAuthToken(access_token=args.token, token_type="Bearer", scope=args.token_scope)
            )
        try:
            async with Client(transport) as client:
                tools = await client.list_tools()
                report["tools"] = [tool.name for tool in tools]
                result = await client.call_tool(args.tool, {}, raise_on_error=False)
                report["text"] = "".join(getattr(part, "text", "") for part in result.content)
                report["is_error"] = bool(result.is_error)
        except Exception as error:  # noqa: BLE001 - reported, for the test to judge
            report["error"] = repr(error)
        client_info = await auth.token_storage_adapter.get_client_info()
        tokens = await auth.token_storage_adapter.get_tokens()
        report["client_id"] = client_info.client_id if client_info else None
        report["scope"] = tokens.scope if tokens else None

    asyncio.run(run())
    for browser in browsers:
        browser.join(timeout=5)
    print(json.dumps(report))


main()
