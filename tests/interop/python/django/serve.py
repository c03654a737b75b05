"""Starts django-oauth-toolkit for the interop tests: binds a free loopback port, makes the RSA key
that signs ID tokens (RS256), creates the database in DATA_DIR with the users and the applications
the scenarios use, prints `listening <issuer>` and serves until its stdin closes.

Environment: DATA_DIR (an empty directory), REDIRECT_URIS (space-separated, registered for the
web application)."""

import os
import shutil
import socketserver
import sys
import threading
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


class ThreadedServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        sys.stderr.write("%s\n" % (format % args))


def rsa_private_key_pem():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def create_user_and_applications():
    from django.contrib.auth import get_user_model
    from oauth2_provider.models import get_application_model

    Application = get_application_model()
    # One user per scenario that logs in through the pages: the toolkit's `auth_time` is the user's
    # latest login anywhere, so one scenario's login would change another's refreshed ID tokens.
    users = [
        get_user_model().objects.create_user(
            username=name,
            password=name + "-password",
            email=name + "@example.com",
            first_name="Ada",
            last_name="Lovelace",
        )
        for name in ("user_01", "user_02", "user_03")
    ]
    user = users[0]
    common = {"user": user, "algorithm": Application.RS256_ALGORITHM}
    # A browser login without a secret (PKCE): the axum-login example.
    Application.objects.create(
        client_id="web-app",
        name="web-app",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=os.environ["REDIRECT_URIS"],
        **common,
    )
    # A machine's own tokens (client_credentials); also the API's credentials for introspection.
    for client_id in ("api-client", "resource-server"):
        Application.objects.create(
            client_id=client_id,
            client_secret=client_id + "-secret",
            name=client_id,
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
            **common,
        )
    # A command-line login on another device (RFC 8628).
    Application.objects.create(
        client_id="device-app",
        name="device-app",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_DEVICE_CODE,
        **common,
    )


def main():
    # Bound first: the issuer, which the settings need, names the port.
    server = make_server("127.0.0.1", 0, None, server_class=ThreadedServer, handler_class=QuietHandler)
    issuer = "http://127.0.0.1:%d" % server.server_port
    os.environ["ISSUER"] = issuer
    os.environ["OIDC_RSA_PRIVATE_KEY"] = rsa_private_key_pem()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "provider.settings")

    import django
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application

    django.setup()
    call_command("migrate", verbosity=0)
    create_user_and_applications()
    server.set_app(get_wsgi_application())

    # The test ends the server by closing its stdin, or by exiting; the database goes with it.
    def stop_at_eof():
        sys.stdin.read()
        shutil.rmtree(os.environ["DATA_DIR"], ignore_errors=True)
        os._exit(0)

    threading.Thread(target=stop_at_eof, daemon=True).start()
    print("listening " + issuer, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
