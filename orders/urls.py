from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    path("stores/", views.store_list, name="store-list"),
    path("stores/new/", views.store_create, name="store-create"),
    path("stores/<int:pk>/edit/", views.store_edit, name="store-edit"),
]
