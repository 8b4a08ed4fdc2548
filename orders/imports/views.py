"""The order import page and its template download.

Wired by ``orders/urls.py`` as ``orders:order-import`` and ``orders:order-import-template``.
The page parses the form, calls ``order_import`` once and renders its result: the counts and
a table of every rejected row (row, column, reason).
"""

from django.conf import settings
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from orders.imports import IMPORT_PERMISSION, OrderImportError, order_import
from orders.imports.forms import OrderImportForm
from orders.imports.template import TEMPLATE_TYPES, order_template_file


@permission_required(IMPORT_PERMISSION, raise_exception=True)
def order_import_page(request: HttpRequest) -> HttpResponse:
    """GET: the upload form. POST: import the file into the chosen store and show the result
    (good orders are kept; a refused file shows its reason on the form)."""
    result = None
    filename = ""
    form = OrderImportForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        filename = upload.name
        try:
            result = order_import(
                store=form.cleaned_data["store"],
                data=upload.read(),
                filename=filename,
                format=form.cleaned_data["format"] or None,
                user=request.user,
            )
        except OrderImportError as error:
            form.add_error("file", str(error))
    return render(
        request,
        "orders/import.html",
        {
            "nav": "import",
            "form": form,
            "result": result,
            "filename": filename,
            "max_upload": settings.IMPORT_MAX_UPLOAD_BYTES,
        },
    )


@require_GET
@permission_required(IMPORT_PERMISSION, raise_exception=True)
def order_import_template(request: HttpRequest) -> HttpResponse:
    """The order template (``?format=csv|xlsx``) with headers in the page's language."""
    fmt = request.GET.get("format", "csv")
    if fmt not in TEMPLATE_TYPES:
        raise Http404
    chinese = (get_language() or "").startswith("zh")
    data = order_template_file(fmt, chinese=chinese)
    response = HttpResponse(data, content_type=TEMPLATE_TYPES[fmt])
    name = "order-template-zh" if chinese else "order-template"
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
