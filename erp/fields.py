"""Encrypted model fields for secrets at rest (marketplace tokens, carrier keys)."""

import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must hold url-safe base64 Fernet keys of 32 bytes "
            "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key())')."
        ) from exc


def encrypt(value: str) -> str:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with FIELD_ENCRYPTION_KEY: was the key changed "
            "without keeping the old one after it?"
        ) from exc


class EncryptedTextField(models.TextField):
    """Stores text as a Fernet token; reads give back the plain text.

    Only exact lookups on NULL make sense on such a column, so it is never indexed.
    """

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)


class CredentialsMixin:
    """Methods of a model whose ``credentials`` field (an ``EncryptedTextField``) holds a JSON
    object of API keys: stores and carriers."""

    credentials: str

    def get_credentials(self) -> dict:
        """The decrypted credentials as a dict (empty when none are stored)."""
        return json.loads(self.credentials) if self.credentials else {}

    def set_credentials(self, value: dict) -> None:
        """Replace the credentials in memory; saving encrypts them."""
        self.credentials = json.dumps(value, sort_keys=True) if value else ""

    @property
    def has_credentials(self) -> bool:
        return bool(self.credentials)

    @property
    def credential_keys(self) -> list[str]:
        return sorted(self.get_credentials())
