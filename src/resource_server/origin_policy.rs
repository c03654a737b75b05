//! Which web origins' pages a resource server takes requests from: every one (an API, where CORS
//! decides), or its own and those allowed (an MCP server, against DNS rebinding).

/// Which requests carrying an `Origin` header a
/// [`RequestCheck`](crate::resource_server::RequestCheck) takes. Browsers send `Origin` with a
/// page's cross-origin requests and with its same-origin ones but `GET` and `HEAD`; other clients
/// (an MCP client, a server, `curl`) send none, and a request without it is never refused for it.
/// A CORS preflight is passed on whatever the policy.
///
/// | use | policy | made by |
/// | --- | --- | --- |
/// | a JSON API called by browser apps of other origins | [`Any`](Self::Any) | [`RequestCheck::api`](crate::resource_server::RequestCheck::api) |
/// | an MCP server (streamable HTTP transport) | [`AllowedOnly`](Self::AllowedOnly) | [`RequestCheck::mcp_server`](crate::resource_server::RequestCheck::mcp_server), or [`allowed_origin`](crate::resource_server::RequestCheck::allowed_origin) on any check |
///
/// Switch with [`RequestCheck::origin_policy`](crate::resource_server::RequestCheck::origin_policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OriginPolicy {
    /// Any `Origin`, or none: the `Origin` is not looked at. An access token is no ambient
    /// credential: a browser never attaches one by itself, as it does cookies, so a page of another
    /// site calls the API with a token only if it holds one, and a forged cross-site request
    /// carries none (no CSRF). Which pages may read the answers is for the app's CORS layer (such
    /// as tower-http's `CorsLayer`) to say.
    Any,
    /// Only the resource's own origin and those
    /// [allowed](crate::resource_server::RequestCheck::allowed_origin), sent once; any other is
    /// refused with 403 before the token is looked at. The MCP streamable HTTP transport requires
    /// it of servers, against DNS rebinding: a page of another site, its name made to resolve to
    /// the server's address, reaches a server on loopback or a private network as if it were its
    /// own, and only its `Origin` gives it away.
    AllowedOnly,
}
