from django.urls import path

from warehouse import views

app_name = "warehouse"

urlpatterns = [
    path("skus/", views.sku_list, name="sku-list"),
]
