"""Settings from the environment serve.py prepares: ISSUER (the origin it listens on), DATA_DIR (a
temporary directory the test gives, for the SQLite database) and OIDC_RSA_PRIVATE_KEY (made at
start)."""

import os
import secrets

ISSUER = os.environ["ISSUER"]
DATA_DIR = os.environ["DATA_DIR"]

SECRET_KEY = secrets.token_urlsafe(50)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
ROOT_URLCONF = "provider.urls"
USE_TZ = True

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [os.path.join(os.path.dirname(__file__), "templates")],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(DATA_DIR, "provider.sqlite3"),
        # Requests are served on several threads. A transaction that reads first and writes later
        # fails at once with "database is locked" when another holds the write lock; one that takes
        # the lock when it begins waits for it instead.
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 30},
    }
}
# Test users and clients only: the default hasher's million rounds would cost every login and
# every client authentication most of a second of CPU.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "/accounts/login/"

OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": os.environ["OIDC_RSA_PRIVATE_KEY"],
    # The issuer is the origin, as an AuthKit domain's is; the endpoints are at AuthKit's paths
    # (urls.py).
    "OIDC_ISS_ENDPOINT": ISSUER,
    "PKCE_REQUIRED": True,
    "ROTATE_REFRESH_TOKEN": True,
    # A rotated refresh token sent again revokes the whole grant (RFC 9700 section 4.14.2).
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "SCOPES": {
        "openid": "OpenID Connect",
        "profile": "Your name",
        "email": "Your email address",
        "offline_access": "Staying signed in",
        "api:read": "Reading the API",
        "api:write": "Writing the API",
    },
    "DEFAULT_SCOPES": ["api:read"],
    "OAUTH2_VALIDATOR_CLASS": "provider.claims.Validator",
    "OAUTH_DEVICE_VERIFICATION_URI": ISSUER + "/oauth2/device",
    "OAUTH_DEVICE_VERIFICATION_URI_COMPLETE": ISSUER + "/oauth2/device?user_code={user_code}",
    # Every RFC 9700 gate on: the behaviour 4.0 will have by default.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
}

# Errors go to stderr, which the test keeps in a log file.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django": {"handlers": ["stderr"], "level": "WARNING"}},
}
