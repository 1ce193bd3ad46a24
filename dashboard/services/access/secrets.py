"""Webhook secrets: generated, shown once, stored encrypted (HMAC checks need the secret)."""

from __future__ import annotations

import base64
import hashlib
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def _fernet() -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet(
        [
            Fernet(base64.urlsafe_b64encode(hashlib.sha256(f"webhook:{key}".encode()).digest()))
            for key in keys
        ]
    )


def generate_secret() -> str:
    """A new random webhook secret (URL-safe, 32 bytes of entropy)."""
    return secrets.token_urlsafe(32)


def encrypt(secret: str) -> str:
    """Encrypt a secret for storage with a key derived from SECRET_KEY."""
    return _fernet().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str | None:
    """Decrypt a stored secret; None when it cannot be (SECRET_KEY rotated, no fallback)."""
    if not token:
        return None
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return None
