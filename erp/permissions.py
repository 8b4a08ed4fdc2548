"""API permissions: a signed-in user whose roles grant the model permission for the action."""

from rest_framework.permissions import DjangoModelPermissions


class RolePermission(DjangoModelPermissions):
    """Like DjangoModelPermissions, but reading needs the ``view`` permission too, and a view's
    custom actions name their own permissions in ``action_permissions``.

    Views without a queryset (health, schema) declare ``required_permissions`` (maybe empty).
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
