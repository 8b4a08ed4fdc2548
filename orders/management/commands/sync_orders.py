from django.core.management.base import BaseCommand, CommandError

from orders.models import Store
from orders.sync import SyncError, sync_due_stores, sync_store


class Command(BaseCommand):
    help = (
        "Fetch changed orders from the platform: one store (--store CODE) or every store whose "
        "sync interval has passed (--all-due). Prints created/updated/unchanged/pages; exits 1 "
        "when a sync fails."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--store", metavar="CODE", help="the store's code")
        which.add_argument("--all-due", action="store_true", help="every enabled store that is due")

    def handle(self, *args, **options):
        if options["all_due"]:
            self._all_due()
            return
        store = Store.objects.filter(code=options["store"]).first()
        if store is None:
            raise CommandError(f"No store with the code {options['store']!r}.")
        try:
            result = sync_store(store)
        except SyncError as exc:
            self.stderr.write(self.style.ERROR(f"{store.code}: {exc}"))
            raise SystemExit(1) from exc
        if result.already_running:
            self.stdout.write(f"{store.code}: a sync is already running")
            return
        self.stdout.write(result.summary())
        if result.rejected:
            self.stderr.write(self.style.WARNING(f"{len(result.rejected)} order(s) rejected:"))
            for external_id, why in result.rejected:
                self.stderr.write(f"  {external_id}: {why}")

    def _all_due(self) -> None:
        failed = 0
        for outcome in sync_due_stores():
            if outcome.error:
                failed += 1
                self.stderr.write(self.style.ERROR(f"{outcome.store_code}: {outcome.error}"))
            elif outcome.result.already_running:
                self.stdout.write(f"{outcome.store_code}: a sync is already running")
            else:
                self.stdout.write(f"{outcome.store_code}: {outcome.result.summary()}")
        if failed:
            raise SystemExit(1)
