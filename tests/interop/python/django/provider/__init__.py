"""A minimal Django project serving django-oauth-toolkit as an OpenID Connect provider, for the
interop tests of workos-connect (tests/interop/django.rs). Started by serve.py."""
