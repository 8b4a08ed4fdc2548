"""Stores: encrypted credentials, the services' checks, the API and the pages, scopes and roles."""

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import translation

from erp.models import Role
from orders.models import Platform, Store
from orders.services import StoreError, store_create, store_update
from tests.factories import StoreFactory, UserFactory

pytestmark = pytest.mark.django_db

SECRET = "Atzr|secret-refresh-token-42"
AMAZON = {"lwa_client_id": "amzn1.id", "lwa_client_secret": "lwa-secret-9", "refresh_token": SECRET}


def _fields(**extra):
    return {
        "platform": Platform.AMAZON,
        "code": "amz-us",
        "name": "Amazon US",
        "site": "ATVPDKIKX0DER",
        "currency": "USD",
        **extra,
    }


def _raw_credentials(store: Store) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM orders_store WHERE id = %s", [store.pk])
        return cursor.fetchone()[0]


# --- Model and services ------------------------------------------------------------------------


def test_credentials_are_encrypted_in_the_database():
    store = store_create(fields=_fields(), credentials=AMAZON)

    raw = _raw_credentials(store)

    assert SECRET not in raw
    assert "lwa_client_id" not in raw
    assert Store.objects.get(pk=store.pk).get_credentials() == AMAZON


@pytest.mark.parametrize(
    ("platform", "credentials", "missing"),
    [
        (Platform.AMAZON, {"lwa_client_id": "a"}, "lwa_client_secret, refresh_token"),
        (Platform.AMAZON, {}, "lwa_client_id, lwa_client_secret, refresh_token"),
        (Platform.SHOPIFY, {"webhook_secret": "w"}, "access_token"),
    ],
)
def test_a_platform_needs_its_credential_keys(platform, credentials, missing):
    with translation.override("en"), pytest.raises(StoreError) as error:
        store_create(fields=_fields(platform=platform), credentials=credentials)

    assert str(error.value) == f"{platform.name.title()} stores need these credentials: {missing}."
    assert Store.objects.count() == 0


def test_other_platforms_take_free_form_credentials():
    store = store_create(fields=_fields(platform=Platform.EBAY), credentials={"token": "t"})
    shopify = store_create(
        fields=_fields(platform=Platform.SHOPIFY, code="shop"), credentials={"access_token": "x"}
    )

    assert store.get_credentials() == {"token": "t"}
    assert shopify.credential_keys == ["access_token"]


def test_update_keeps_credentials_when_none_and_replaces_them_with_a_dict():
    store = store_create(fields=_fields(), credentials=AMAZON)

    kept = store_update(store=store, fields={"name": "Renamed"}, credentials=None)
    new = {**AMAZON, "refresh_token": "new-token"}
    replaced = store_update(store=store, fields={}, credentials=new)

    assert kept.name == "Renamed"
    assert kept.get_credentials() == AMAZON
    assert Store.objects.get(pk=store.pk).get_credentials() == new
    assert replaced.get_credentials() == new


def test_changing_platform_checks_the_stored_credentials():
    store = store_create(fields=_fields(platform=Platform.EBAY), credentials={"token": "t"})

    with pytest.raises(StoreError):
        store_update(store=store, fields={"platform": Platform.SHOPIFY})

    assert Store.objects.get(pk=store.pk).platform == Platform.EBAY


def test_sync_interval_must_be_positive():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        store_create(fields=_fields(platform=Platform.MANUAL, sync_interval_minutes=0))


# --- API ---------------------------------------------------------------------------------------


def test_credentials_are_write_only_in_the_api(client_as):
    client = client_as(UserFactory(roles=[Role.OPERATIONS]))

    created = client.post("/api/v1/stores/", {**_fields(), "credentials": AMAZON}, format="json")
    pk = created.json()["id"]
    responses = [
        created,
        client.get("/api/v1/stores/"),
        client.get(f"/api/v1/stores/{pk}/"),
        client.patch(f"/api/v1/stores/{pk}/", {"name": "US"}, format="json"),
        client.put(f"/api/v1/stores/{pk}/", {**_fields(), "credentials": AMAZON}, format="json"),
    ]

    assert [r.status_code for r in responses] == [201, 200, 200, 200, 200]
    for response in responses:
        body = response.content.decode()
        assert SECRET not in body
        assert "lwa-secret-9" not in body
        assert '"credentials"' not in body
    detail = responses[2].json()
    assert detail["has_credentials"] is True
    assert detail["credential_keys"] == ["lwa_client_id", "lwa_client_secret", "refresh_token"]
    assert Store.objects.get(pk=pk).get_credentials() == AMAZON


def test_api_refuses_missing_credential_keys(client_as):
    client = client_as(UserFactory(roles=[Role.OPERATIONS]))

    response = client.post("/api/v1/stores/", {**_fields(), "credentials": {}}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "store_invalid"
    assert Store.objects.count() == 0


def test_api_scope_a_user_sees_only_their_stores(client_as):
    mine, other = StoreFactory(code="mine"), StoreFactory(code="other")
    client = client_as(UserFactory(roles=[Role.OPERATIONS], stores=[mine]))

    listed = client.get("/api/v1/stores/")

    assert [s["code"] for s in listed.json()["results"]] == ["mine"]
    assert client.get(f"/api/v1/stores/{other.pk}/").status_code == 404
    assert client.patch(f"/api/v1/stores/{other.pk}/", {"name": "x"}).status_code == 404


def test_api_filters(client_as):
    StoreFactory(code="a", platform=Platform.SHOPIFY, sync_enabled=True)
    StoreFactory(code="b", platform=Platform.EBAY, is_active=False)
    client = client_as(UserFactory(roles=[Role.FINANCE]))

    def codes(query):
        return [s["code"] for s in client.get(f"/api/v1/stores/?{query}").json()["results"]]

    assert codes("platform=shopify") == ["a"]
    assert codes("is_active=false") == ["b"]
    assert codes("sync_enabled=true") == ["a"]


def test_finance_may_list_but_not_create_or_change(client_as):
    store = StoreFactory(code="s1")
    client = client_as(UserFactory(roles=[Role.FINANCE]))

    assert client.get("/api/v1/stores/").status_code == 200
    assert client.post("/api/v1/stores/", _fields(platform="manual")).status_code == 403
    assert client.patch(f"/api/v1/stores/{store.pk}/", {"name": "x"}).status_code == 403
    assert client.delete(f"/api/v1/stores/{store.pk}/").status_code == 403


def test_stores_are_never_deleted_through_the_api(client_as):
    store = StoreFactory()
    client = client_as(UserFactory(roles=[Role.ADMIN]))

    assert client.delete(f"/api/v1/stores/{store.pk}/").status_code == 405
    assert Store.objects.filter(pk=store.pk).exists()


def test_list_query_count_does_not_grow_with_rows(client_as, warehouse, django_assert_num_queries):
    user = UserFactory(roles=[Role.OPERATIONS], stores=[])
    for i in range(5):
        user.stores.add(StoreFactory(default_warehouse=warehouse, credentials={"k": str(i)}))
    client = client_as(user)
    with django_assert_num_queries(5):
        small = client.get("/api/v1/stores/")
    for i in range(35):
        user.stores.add(StoreFactory(default_warehouse=warehouse, credentials={"k": str(i)}))
    client = client_as(UserFactory._meta.model.objects.get(pk=user.pk))
    with django_assert_num_queries(5):
        full = client.get("/api/v1/stores/")

    assert len(small.json()["results"]) == 5
    assert len(full.json()["results"]) == 40


# --- Pages -------------------------------------------------------------------------------------


def test_store_list_page_shows_the_users_stores_only(client, warehouse):
    mine = StoreFactory(code="mine", default_warehouse=warehouse, last_error="429 Too Many")
    StoreFactory(code="hidden-store")
    client.force_login(UserFactory(roles=[Role.OPERATIONS], stores=[mine]))

    response = client.get(reverse("orders:store-list"))

    body = response.content.decode()
    assert response.status_code == 200
    assert "mine" in body
    assert "Sync error" in body
    assert "hidden-store" not in body


def test_store_pages_need_permission(client):
    store = StoreFactory()
    client.force_login(UserFactory(roles=[Role.WAREHOUSE]))

    assert client.get(reverse("orders:store-list")).status_code == 403
    assert client.get(reverse("orders:store-create")).status_code == 403
    assert client.get(reverse("orders:store-edit", args=[store.pk])).status_code == 403


def test_finance_sees_the_list_but_not_the_form(client):
    store = StoreFactory()
    client.force_login(UserFactory(roles=[Role.FINANCE]))

    assert client.get(reverse("orders:store-list")).status_code == 200
    assert client.get(reverse("orders:store-create")).status_code == 403
    assert client.get(reverse("orders:store-edit", args=[store.pk])).status_code == 403


def test_edit_page_of_a_store_outside_the_scope_is_not_found(client):
    mine, other = StoreFactory(), StoreFactory()
    client.force_login(UserFactory(roles=[Role.OPERATIONS], stores=[mine]))

    assert client.get(reverse("orders:store-edit", args=[other.pk])).status_code == 404


def _form_data(**extra):
    return {
        "platform": "amazon",
        "code": "amz-us",
        "name": "Amazon US",
        "site": "ATVPDKIKX0DER",
        "currency": "usd",
        "sync_interval_minutes": "15",
        "is_active": "on",
        **extra,
    }


def test_create_and_edit_a_store_through_the_form(client):
    import json

    client.force_login(UserFactory(roles=[Role.OPERATIONS]))

    created = client.post(
        reverse("orders:store-create"), _form_data(credentials_json=json.dumps(AMAZON))
    )
    store = Store.objects.get(code="amz-us")
    edit_url = reverse("orders:store-edit", args=[store.pk])
    form = client.get(edit_url)
    saved = client.post(edit_url, _form_data(name="Renamed", credentials_json=""))

    assert created.status_code == 302
    assert store.currency == "USD"
    assert form.status_code == 200
    assert SECRET not in form.content.decode()
    assert "refresh_token" in form.content.decode()  # the names only
    assert saved.status_code == 302
    store.refresh_from_db()
    assert store.name == "Renamed"
    assert store.get_credentials() == AMAZON


def test_form_refuses_missing_credentials_without_echoing_them(client):
    client.force_login(UserFactory(roles=[Role.OPERATIONS]))

    response = client.post(
        reverse("orders:store-create"),
        _form_data(credentials_json='{"lwa_client_id": "id", "refresh_token": "' + SECRET + '"}'),
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "need these credentials: lwa_client_secret" in body
    assert SECRET not in body
    assert Store.objects.count() == 0


def test_a_scoped_creator_keeps_sight_of_the_store_they_create():
    other = StoreFactory(code="other")
    clerk = UserFactory(roles=[Role.OPERATIONS], stores=[other])
    everyone = UserFactory(roles=[Role.OPERATIONS])

    mine = store_create(fields=_fields(), credentials=AMAZON, created_by=clerk)
    theirs = store_create(
        fields=_fields(code="eu", platform=Platform.EBAY), credentials={}, created_by=everyone
    )

    assert set(clerk.stores.all()) == {other, mine}
    assert list(everyone.stores.all()) == []
    assert theirs.code == "eu"
