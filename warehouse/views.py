from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from warehouse.models import Sku


@permission_required("warehouse.view_sku", raise_exception=True)
def sku_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(Sku.objects.order_by("code"), 50).get_page(request.GET.get("page"))
    return render(request, "warehouse/sku_list.html", {"page": page})
