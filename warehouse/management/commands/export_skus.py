from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from warehouse.exports import sku_export
from warehouse.models import Sku


class Command(BaseCommand):
    help = (
        "Write every SKU as CSV (UTF-8 with BOM) or XLSX, in the columns import_skus reads. "
        "Without -o the CSV goes to standard output."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--format",
            choices=["csv", "xlsx"],
            help="file format; default: from the -o file's extension, else csv",
        )
        parser.add_argument("-o", "--output", help="file to write (default: standard output)")

    def handle(self, *args, **options):
        output = options["output"]
        fmt = options["format"]
        if fmt is None:
            fmt = "xlsx" if output and output.lower().endswith(".xlsx") else "csv"
        if fmt == "xlsx" and not output:
            raise CommandError("XLSX is a binary file; name it with -o FILE.")
        data = sku_export(queryset=Sku.objects.all(), fmt=fmt)
        if output:
            try:
                Path(output).write_bytes(data)
            except OSError as exc:
                raise CommandError(f"Cannot write {output}: {exc.strerror}") from exc
        else:
            # the BOM and Chinese text go out as bytes whatever the terminal's locale is
            binary = getattr(self.stdout._out, "buffer", None)
            if binary is not None:
                self.stdout.flush()
                binary.write(data)
                binary.flush()
            else:
                self.stdout.write(data.decode("utf-8"), ending="")
