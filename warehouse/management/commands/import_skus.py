from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from warehouse.imports import SkuImportError, sku_import


class Command(BaseCommand):
    help = (
        "Create or update SKUs from a CSV or XLSX file (all rows or none). Prints each error as "
        "'row N, column X: reason' and ends with the counts; exits 1 when any row has an error."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="a .csv, .tsv, .txt or .xlsx file")

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
        try:
            result = sku_import(data=data, filename=path.name)
        except SkuImportError as exc:
            raise CommandError(str(exc)) from exc
        for error in result.errors:
            self.stdout.write(f"row {error.row}, column {error.column}: {error.message}")
        self.stdout.write(
            f"created={result.created} updated={result.updated} "
            f"unchanged={result.unchanged} failed={result.failed}"
        )
        if result.errors:
            raise SystemExit(1)
