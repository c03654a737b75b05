"""django-oauth-toolkit's views at the paths of an AuthKit domain (`/oauth2/...`), which is what
workos-connect's `AuthKitDomain` derives its endpoints from, under the namespace the toolkit's
discovery documents reverse their URLs in. Django's own login page is the provider's login form."""

from django.contrib.auth import views as auth_views
from django.urls import include, path
from oauth2_provider import views

oauth2 = [
    path(".well-known/openid-configuration", views.ConnectDiscoveryInfoView.as_view(),
         name="oidc-connect-discovery-info"),
    path(".well-known/oauth-authorization-server", views.OAuthServerMetadataView.as_view(),
         name="oauth-server-metadata"),
    path("oauth2/authorize", views.AuthorizationView.as_view(), name="authorize"),
    path("oauth2/token", views.TokenView.as_view(), name="token"),
    path("oauth2/revoke", views.RevokeTokenView.as_view(), name="revoke-token"),
    path("oauth2/introspection", views.IntrospectTokenView.as_view(), name="introspect"),
    path("oauth2/jwks", views.JwksInfoView.as_view(), name="jwks-info"),
    path("oauth2/userinfo", views.UserInfoView.as_view(), name="user-info"),
    path("oauth2/device_authorization", views.DeviceAuthorizationView.as_view(),
         name="device-authorization"),
    path("oauth2/device", views.DeviceUserCodeView.as_view(), name="device"),
    path("oauth2/device-confirm/<slug:client_id>/<slug:user_code>", views.DeviceConfirmView.as_view(),
         name="device-confirm"),
    path("oauth2/device-grant-status/<slug:client_id>/<slug:user_code>",
         views.DeviceGrantStatusView.as_view(), name="device-grant-status"),
]

urlpatterns = [
    path("", include((oauth2, "oauth2_provider"))),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
]
