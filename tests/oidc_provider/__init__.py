"""A real OpenID Connect provider for the browser tests: django-oauth-toolkit in a process
of its own on loopback (tests/e2e/oidc.py starts it), never a mocked answer.

Its own settings, an SQLite file and an RSA signing key in a temporary folder; users and
their groups are set by the `oidc_user` command, the client by `oidc_client`, so a test can
change someone's groups between two sign-ins.
"""
