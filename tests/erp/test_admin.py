import pytest
from django.urls import reverse

from erp.models import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_admin_edits_a_users_roles_and_scopes(client):
    admin = UserFactory(roles=[Role.ADMIN], is_staff=True, is_superuser=True)
    clerk = UserFactory(username="clerk")
    client.force_login(admin)

    response = client.get(reverse("admin:erp_user_change", args=[clerk.pk]))

    assert response.status_code == 200
    form = response.context["adminform"].form
    for name in ("groups", "all_warehouses", "warehouses", "all_stores", "stores"):
        assert name in form.fields


@pytest.mark.parametrize(
    "url",
    [
        "admin:warehouse_sku_changelist",
        "admin:warehouse_stockmove_changelist",
        "admin:orders_store_add",
    ],
)
def test_admin_pages_render(client, url):
    client.force_login(UserFactory(roles=[Role.ADMIN], is_staff=True, is_superuser=True))
    assert client.get(reverse(url)).status_code == 200
