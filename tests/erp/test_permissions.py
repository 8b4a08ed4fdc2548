"""Who may open what. The URL tests are generated from the URL conf at run time, so a new page
or endpoint is checked the moment it is routed, and a public one fails until it is allow-listed
here with its reason."""

import itertools
import re
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.test import Client
from django.urls import Resolver404, URLResolver, get_resolver, resolve
from django.urls.resolvers import LocalePrefixPattern, RegexPattern, RoutePattern
from django.utils.regex_helper import normalize
from rest_framework.test import APIClient

from erp.models import Role
from tests.factories import SkuFactory, UserFactory
from warehouse.models import StockMove
from warehouse.services import stock_adjust

pytestmark = pytest.mark.django_db

# URLs anyone may open without signing in, by view name, each with its reason. Static files are
# not here: WhiteNoise serves them in the middleware, before any URL is resolved.
PUBLIC = {
    "healthz": "load balancers and uptime checks call it without a session; it tells only "
    "whether the database answers",
    "login": "the sign-in page itself",
    "set_language": "the language switch works on the sign-in page too",
    "admin:login": "the admin site's own sign-in page",
    "shopify-webhook": "Shopify calls it without a session; the body's HMAC-SHA256 with the "
    "store's secret is its authentication (wrong or missing: 401)",
}

# API URLs a signed-in user without any role may open, with the reason.
API_OPEN_TO_EVERY_USER = {
    "api-root": "lists the endpoint addresses only; every endpoint checks its own permission",
}

ROUTE_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
# Values tried for a URL parameter, first that the pattern accepts wins: an id, a format suffix,
# an app label (admin app index), a word.
SAMPLE_VALUES = ["1", "json", ".json", "x"]
METHODS = ["get", "post", "put", "patch", "delete"]


@dataclass(frozen=True)
class Url:
    path: str
    view_name: str


def _leaves(resolver, chain=()):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _leaves(pattern, (*chain, pattern))
        else:
            yield (*chain, pattern)


def _templates(pattern) -> list[tuple[str, list[str], dict[str, str]]]:
    """The ways to write one pattern: (format string, parameter names, parameter regexes)."""
    p = pattern.pattern
    if isinstance(p, RoutePattern):
        names: list[str] = []

        def param(match):
            names.append(match["name"])
            return f"%({match['name']})s"

        fmt = ROUTE_PARAM.sub(param, str(p).replace("%", "%%"))
        return [(fmt, names, {n: p.converters[n].regex for n in names})]
    if isinstance(p, RegexPattern):
        return [(fmt, list(params), {}) for fmt, params in normalize(p.regex.pattern)]
    if isinstance(p, LocalePrefixPattern):
        return [(p.language_prefix, [], {})]
    raise AssertionError(f"Unknown URL pattern type {type(p).__name__}: {p}")


def _samples(name: str, regex: str | None) -> list[str]:
    values = list(SAMPLE_VALUES)
    if name == "format":  # a DRF format suffix: a renderer's format, or DRF answers 404
        values = ["json", ".json"]
    values += sorted(config.label for config in apps.get_app_configs())
    if regex is not None:
        values = [v for v in values if re.fullmatch(regex, v)]
    return values


def _concrete_url(chain) -> str | None:
    """A path that resolves to the chain's view, or None when no sample value fits."""
    leaf = chain[-1]
    for templates in itertools.product(*(_templates(p) for p in chain)):
        fmt = "".join(t[0] for t in templates)
        names = [n for t in templates for n in t[1]]
        regexes = {n: r for t in templates for n, r in t[2].items()}
        choices = [_samples(n, regexes.get(n)) for n in names]
        for values in itertools.product(*choices):
            path = "/" + fmt % dict(zip(names, values, strict=True))
            try:
                match = resolve(path)
            except Resolver404:
                continue
            if match.func is leaf.callback:
                return path
    return None


def routed_urls() -> list[Url]:
    """One concrete URL per pattern of the URL conf, as it is when the test runs."""
    urls, unbuildable = [], []
    for chain in _leaves(get_resolver()):
        path = _concrete_url(chain)
        if path is None:
            unbuildable.append(" ".join(str(p.pattern) for p in chain))
            continue
        urls.append(Url(path, resolve(path).view_name))
    assert unbuildable == [], "add a sample value for these URL patterns to SAMPLE_VALUES"
    return urls


def _refusal(path: str, response) -> str | None:
    """None when ``response`` refuses an anonymous request the way ``path`` should."""
    if path.startswith("/api/"):
        # 401 with a Token challenge: TokenAuthentication comes first in the settings.
        if response.status_code == 401 and response.headers.get("WWW-Authenticate") == "Token":
            return None
        return f"status {response.status_code}, wanted 401 with a Token challenge"
    logins = ("/accounts/login/?next=",)
    if path.startswith("/admin/"):  # the admin may send people to its own sign-in page
        logins += ("/admin/login/?next=",)
    location = response.headers.get("Location", "")
    if response.status_code == 302 and location.startswith(logins):
        return None
    return f"status {response.status_code} to {location!r}, wanted a 302 to {logins}"


def test_the_url_walk_builds_a_url_for_every_kind_of_pattern():
    paths = {url.path for url in routed_urls()}

    assert {
        "/",  # a plain page
        "/api/v1/skus/",  # a DRF router regex
        "/api/v1/skus/1/stock/",  # a regex with a parameter
        "/api/v1/skus.json",  # a DRF format suffix
        "/api/v1/.json",  # the API root's format suffix converter
        "/admin/auth/",  # an admin regex with alternatives (app labels)
        "/admin/erp/user/1/change/",  # a path converter inside an include
        "/warehouse/skus/1/",  # an int converter
    } <= paths


def test_anonymous_requests_are_refused_everywhere_but_the_public_allow_list():
    anonymous = Client()
    problems = []

    for url in routed_urls():
        if url.view_name in PUBLIC:
            continue
        for method in ("get", "post"):
            response = getattr(anonymous, method)(url.path)
            problem = _refusal(url.path, response)
            if problem:
                problems.append(f"{method.upper()} {url.path} ({url.view_name}): {problem}")

    assert problems == [], "public by mistake? otherwise add it to PUBLIC with a reason"


def test_the_public_allow_list_names_routed_urls_that_are_public():
    urls = {url.view_name: url.path for url in routed_urls()}
    anonymous = Client()

    assert sorted(name for name in PUBLIC if name not in urls) == []
    assert {name: anonymous.get(urls[name]).status_code for name in PUBLIC} == {
        "healthz": 200,
        "login": 200,
        "set_language": 302,  # back where the person came from; only a POST switches
        "admin:login": 200,
        "shopify-webhook": 405,  # POST only; an unsigned POST gets 401 (tests/orders)
    }


def test_a_user_without_a_role_is_refused_by_every_api_endpoint():
    client = APIClient()
    client.force_authenticate(UserFactory())
    problems = []

    api_urls = [u for u in routed_urls() if u.path.startswith("/api/v1/")]
    for url in api_urls:
        if url.view_name in API_OPEN_TO_EVERY_USER:
            continue
        for method in METHODS:
            response = getattr(client, method)(url.path)
            if response.status_code != 403:
                problems.append(f"{method.upper()} {url.path}: {response.status_code}")

    assert len(api_urls) >= 20
    assert problems == []


def test_no_api_url_answers_an_admin_with_a_server_error():
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(UserFactory(roles=[Role.ADMIN]))
    errors = []

    for url in routed_urls():
        if not url.path.startswith("/api/"):
            continue
        for method in METHODS:
            status = getattr(client, method)(url.path, {}).status_code
            if status >= 500:
                errors.append(f"{method.upper()} {url.path}: {status}")

    assert errors == []


def test_every_signed_in_user_may_read_the_schema_and_the_api_root():
    client = APIClient()
    client.force_authenticate(UserFactory())

    assert client.get("/api/v1/").status_code == 200
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


# --- Roles -----------------------------------------------------------------------------------


def _client(role):
    client = APIClient()
    client.force_authenticate(UserFactory(roles=[role] if role else []))
    return client


def _adjust(client, sku, location):
    body = {"sku": sku.pk, "location": location.pk, "quantity": 1, "reason": "found"}
    return client.post("/api/v1/stock-adjustments/", body).status_code


def _relocate(client, sku, bins):
    body = {"sku": sku.pk, "from_location": bins[0].pk, "to_location": bins[1].pk, "quantity": 1}
    return client.post("/api/v1/stock-relocations/", body).status_code


@pytest.mark.parametrize(
    ("role", "read", "create_sku", "adjust", "relocate", "create_warehouse"),
    [
        (Role.OPERATIONS, 200, 201, 403, 403, 403),
        (Role.WAREHOUSE, 200, 403, 201, 201, 403),
        (Role.PURCHASING, 200, 201, 403, 403, 403),
        (Role.FINANCE, 200, 403, 403, 403, 403),
        (Role.ADMIN, 200, 201, 201, 201, 201),
        (None, 403, 403, 403, 403, 403),
    ],
)
def test_what_each_role_may_do(
    role, read, create_sku, adjust, relocate, create_warehouse, sku, bins
):
    stock_adjust(sku=sku, location=bins[0], quantity=5, reason="opening count")  # to relocate
    client = _client(role)

    assert {
        "read": [
            client.get(url).status_code
            for url in [
                "/api/v1/skus/",
                f"/api/v1/skus/{sku.pk}/",
                f"/api/v1/skus/{sku.pk}/stock/",
                "/api/v1/warehouses/",
                "/api/v1/locations/",
                "/api/v1/stock-levels/",
                "/api/v1/stock-moves/",
            ]
        ],
        "create_sku": client.post("/api/v1/skus/", {"code": "NEW-1", "name": "New"}).status_code,
        "adjust": _adjust(client, sku, bins[2]),
        "relocate": _relocate(client, sku, bins),
        "create_warehouse": client.post(
            "/api/v1/warehouses/", {"code": "NEW", "name": "New"}
        ).status_code,
    } == {
        "read": [read] * 7,
        "create_sku": create_sku,
        "adjust": adjust,
        "relocate": relocate,
        "create_warehouse": create_warehouse,
    }


def test_finance_reads_skus_but_cannot_adjust_stock(sku, bins):
    client = _client(Role.FINANCE)
    SkuFactory(code="MUG-RED")

    listed = client.get("/api/v1/skus/?q=MUG-RED")
    refused = client.post(
        "/api/v1/stock-adjustments/",
        {"sku": sku.pk, "location": bins[0].pk, "quantity": 1, "reason": "x"},
    )

    assert [r["code"] for r in listed.json()["results"]] == ["MUG-RED"]
    assert refused.status_code == 403
    assert refused.json() == {"detail": "You do not have permission to perform this action."}
    assert StockMove.objects.count() == 0


def test_warehouse_staff_edit_bins_but_only_admins_delete_them(bins):
    worker, admin = _client(Role.WAREHOUSE), _client(Role.ADMIN)

    assert worker.patch(f"/api/v1/locations/{bins[0].pk}/", {"pick_sequence": 1}).status_code == 200
    assert worker.delete(f"/api/v1/locations/{bins[0].pk}/").status_code == 403
    assert admin.delete(f"/api/v1/locations/{bins[0].pk}/").status_code == 204
