"""The user's part of a login, played without a browser: from the authorization URL, follow the
provider's redirects and post its login (user_01, any password) and consent forms, carrying its
cookies, until it sends the browser to the client's redirect URI. As browse() in interop.rs and
sdk-client.mjs do it."""

import re
from urllib.parse import urljoin

import httpx2


def browse(authorization_url: str, redirect_uri: str) -> str:
    """The URL the provider sends the browser back to (starting with `redirect_uri`)."""
    cookies: dict[str, str] = {}
    url = authorization_url
    form: dict[str, str] | None = None
    with httpx2.Client(follow_redirects=False, timeout=10) as http:
        for _ in range(20):
            headers = {"cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}
            if form is None:
                response = http.get(url, headers=headers)
            else:
                response = http.post(url, headers=headers, data=form)
            form = None
            for line in response.headers.get_list("set-cookie"):
                name, _, value = line.split(";")[0].partition("=")
                cookies[name.strip()] = value.strip()
            location = response.headers.get("location")
            if location:
                url = urljoin(url, location)
                if url.startswith(redirect_uri):
                    return url
                continue
            page = response.text
            if not response.is_success:
                raise RuntimeError(f"HTTP {response.status_code}: {page}")
            action = re.search(r'action="([^"]+)"', page)
            if action is None:
                raise RuntimeError(f"no form on the page: {page}")
            url = urljoin(url, action.group(1))
            if 'name="login"' in page:
                form = {"prompt": "login", "login": "user_01", "password": "any"}
            else:
                form = {"prompt": "consent"}
    raise RuntimeError("the provider never redirected back")
