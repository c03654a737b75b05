"""The user's claims in ID tokens and at userinfo: django-oauth-toolkit gives only `sub` unless told
more (its documented extension point); each claim is released for its scope (OpenID Connect Core
section 5.4)."""

from oauth2_provider.oauth2_validators import OAuth2Validator


class Validator(OAuth2Validator):
    # Without a `request` parameter, the toolkit lists these claims in its discovery document's
    # `claims_supported`; with one, it lists `sub` alone.
    def get_additional_claims(self):
        return {
            "email": lambda request: request.user.email,
            "email_verified": lambda request: True,
            "given_name": lambda request: request.user.first_name,
            "family_name": lambda request: request.user.last_name,
            "preferred_username": lambda request: request.user.username,
        }
