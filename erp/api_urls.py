"""The /api/v1/ router: every app registers its viewsets here."""

from rest_framework.routers import DefaultRouter

from orders import api as orders_api
from warehouse import api as warehouse_api

router = DefaultRouter()
warehouse_api.register(router)
orders_api.register(router)

urlpatterns = router.urls
