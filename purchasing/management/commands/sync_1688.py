"""``manage.py sync_1688 [PO-NUMBER ...]``: read open 1688 purchase orders back now.

Without numbers, every open purchase order placed on 1688 (what the beat task does). Prints
one line per failure and, last, ``synced=N failed=N``; exits 1 when any failed.
"""

from django.core.management.base import BaseCommand, CommandError

from purchasing.models import PurchaseOrder
from purchasing.services.orders import PurchaseError
from purchasing.services.platform import po_sync, sync_open_orders


class Command(BaseCommand):
    help = (
        "Sync purchase orders with their 1688 orders (status, payment, tracking). Without "
        "numbers, every open purchase order placed on 1688. Ends with 'synced=N failed=N'."
    )

    def add_arguments(self, parser):
        parser.add_argument("numbers", nargs="*", help="purchase order numbers (default: all open)")

    def handle(self, *args, **options):
        numbers = options["numbers"]
        if numbers:
            found = {po.number: po for po in PurchaseOrder.objects.filter(number__in=numbers)}
            unknown = [n for n in numbers if n not in found]
            if unknown:
                raise CommandError(f"No purchase order numbered {', '.join(unknown)}.")
            synced, failed = 0, {}
            for number in numbers:
                try:
                    po_sync(po=found[number])
                except PurchaseError as exc:
                    failed[number] = str(exc)
                else:
                    synced += 1
        else:
            result = sync_open_orders()
            synced, failed = result["synced"], result["failed"]
        for number, reason in failed.items():
            self.stdout.write(f"{number}: {reason}")
        self.stdout.write(f"synced={synced} failed={len(failed)}")
        if failed:
            raise SystemExit(1)
