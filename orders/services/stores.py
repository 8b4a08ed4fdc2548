"""Every write of the orders app. For now: stores and their credentials."""

from collections.abc import Mapping

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from erp.errors import ServiceError
from erp.models import User
from erp.scopes import sees_all_stores
from orders.models import STORE_EDITABLE_FIELDS, Platform, Store

# Credential keys each platform's connector needs; platforms not listed take any keys.
REQUIRED_CREDENTIAL_KEYS: dict[str, tuple[str, ...]] = {
    Platform.AMAZON: ("lwa_client_id", "lwa_client_secret", "refresh_token"),
    Platform.SHOPIFY: ("access_token",),
}


class StoreError(ServiceError):
    """A store change that cannot be made as asked; the message is for the user."""

    code = "store_invalid"


def _check_store_fields(fields: Mapping[str, object]) -> None:
    unknown = set(fields) - set(STORE_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable store fields: {sorted(unknown)}")


def _check_credentials(platform: str, credentials: Mapping[str, object]) -> None:
    if any(not isinstance(key, str) or not key for key in credentials):
        raise StoreError(_("Credential names must be non-empty text."))
    missing = [
        key for key in REQUIRED_CREDENTIAL_KEYS.get(platform, ()) if not credentials.get(key)
    ]
    if missing:
        raise StoreError(
            _("%(platform)s stores need these credentials: %(keys)s.")
            % {"platform": Platform(platform).label, "keys": ", ".join(missing)}
        )


def _save_store(store: Store) -> None:
    try:
        with transaction.atomic():
            store.save()
    except IntegrityError as exc:  # a concurrent writer took the code first
        raise StoreError(
            _("Another store already has the code %(code)s.") % {"code": store.code}
        ) from exc


@transaction.atomic
def store_create(
    *,
    fields: Mapping[str, object],
    credentials: dict | None = None,
    created_by: User | None = None,
) -> Store:
    """Create a store from validated ``fields``; ``credentials`` are stored encrypted.

    A creator limited to some stores gets the new one in their scope: otherwise it would
    vanish from their list the moment they saved it.
    """
    _check_store_fields(fields)
    store = Store(**fields)
    store.full_clean()
    credentials = credentials or {}
    _check_credentials(store.platform, credentials)
    store.set_credentials(credentials)
    _save_store(store)
    if created_by is not None and not sees_all_stores(created_by):
        created_by.stores.add(store)
    return store


@transaction.atomic
def store_update(
    *, store: Store, fields: Mapping[str, object], credentials: dict | None = None
) -> Store:
    """Change the given ``fields``; ``credentials`` None keeps the stored ones, a dict replaces
    them. The stored credentials must still suit the platform (a store that changes platform
    needs new ones). Stores are never deleted: one is deactivated (``is_active``)."""
    _check_store_fields(fields)
    current = Store.objects.select_for_update().get(pk=store.pk)
    for name, value in fields.items():
        setattr(current, name, value)
    current.full_clean()
    if credentials is not None:
        _check_credentials(current.platform, credentials)
        current.set_credentials(credentials)
    elif "platform" in fields:
        _check_credentials(current.platform, current.get_credentials())
    _save_store(current)
    return current
