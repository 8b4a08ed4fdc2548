"""``manage.py import_orders --store CODE FILE [--format ...]``: the order import for scripts.

Prints one line per rejected cell (``row N, column X: reason``) and, as its last line, the
counts ``created=N updated=N unchanged=N failed=N``. Exit status 1 when the file is refused
as a whole (nothing written: unreadable, unknown format, missing column, wrong store);
otherwise 0, also when some orders were rejected: the good ones were imported, as the API's
200 says, and the last line tells a script how many failed.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from orders.imports import FORMATS, OrderImportError, order_import
from orders.models import Store


class Command(BaseCommand):
    help = (
        "Import orders from an Amazon All Orders report, a Shopify orders export, an eBay "
        "orders report or the Caravan order template into a store. Prints each rejected row "
        "and ends with 'created=N updated=N unchanged=N failed=N'; exits 1 only when the file "
        "is refused as a whole."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="a .csv, .tsv, .txt or .xlsx file")
        parser.add_argument("--store", required=True, help="the code of the store")
        parser.add_argument(
            "--format", choices=FORMATS, help="the file's format (default: from its header)"
        )

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
        store = Store.objects.filter(code=options["store"]).first()
        if store is None:
            raise CommandError(f"No store has the code {options['store']!r}.")
        try:
            result = order_import(
                store=store, data=data, filename=path.name, format=options["format"]
            )
        except OrderImportError as exc:
            raise CommandError(str(exc)) from exc
        for error in result.errors:
            self.stdout.write(f"row {error.row}, column {error.field}: {error.reason}")
        self.stdout.write(result.summary())
