"""API permissions: a signed-in user whose roles grant the model permission for the action,
and who works in the warehouses the request touches."""

from collections.abc import Iterable

from django.utils.translation import gettext as _
from rest_framework.permissions import DjangoModelPermissions

from erp.errors import ServiceError
from erp.models import User
from erp.scopes import sees_all_warehouses


class RolePermission(DjangoModelPermissions):
    """Like DjangoModelPermissions, but reading needs the ``view`` permission too, and a view's
    custom actions name their own permissions in ``action_permissions``.

    Views without a queryset (health, schema, POST-only actions) declare
    ``required_permissions`` (maybe empty).
    """

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": [],
    }

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        action = getattr(view, "action", None)
        action_perms = getattr(view, "action_permissions", {})
        if action in action_perms:
            return user.has_perms(action_perms[action])
        if hasattr(view, "required_permissions"):
            return user.has_perms(view.required_permissions)
        return super().has_permission(request, view)


class OutOfScope(ServiceError):
    """The request names a warehouse (or a bin of one) that the user may not work in."""

    code = "out_of_scope"
    http_status = 403


def require_warehouse_scope(user: User, warehouse_ids: Iterable[int]) -> None:
    """Raise ``OutOfScope`` unless ``user`` may work in every warehouse of ``warehouse_ids``.

    Lists and details are scoped in their querysets (a foreign row is simply not found); this
    is for write actions whose body names bins, so the refusal can say why.
    """
    if sees_all_warehouses(user):
        return
    wanted = set(warehouse_ids)
    allowed = set(user.warehouses.filter(pk__in=wanted).values_list("pk", flat=True))
    if wanted - allowed:
        raise OutOfScope(_("You may not change stock in a warehouse outside your scope."))
