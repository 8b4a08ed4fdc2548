from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from erp.demo_data import USERS, demo_seed


class Command(BaseCommand):
    help = (
        "Create (or bring back) the demo company, one login per role, the Shenzhen and Los "
        "Angeles warehouses with bins, 60+ SKUs, bundles and opening stock. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--show-logins",
            action="store_true",
            help="Only print the demo logins and their passwords; seed nothing.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even with DEBUG off (the demo users have well-known passwords).",
        )

    def handle(self, *args, **options):
        if options["show_logins"]:
            self.print_logins()
            return
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "DEBUG is off: this looks like a real installation, and the demo users have "
                "well-known passwords. Pass --force to seed anyway."
            )
        report = demo_seed()
        if report.changed:
            created = ", ".join(f"{kind}: {n}" for kind, n in report.created.items())
            updated = ", ".join(f"{kind}: {n}" for kind, n in report.updated.items())
            self.stdout.write(
                self.style.SUCCESS("Demo data seeded.")
                + (f" Created: {created}." if created else "")
                + (f" Corrected: {updated}." if updated else "")
                + (f" Opening-stock receipts: {report.received}." if report.received else "")
            )
        else:
            self.stdout.write(self.style.SUCCESS("Demo data already in place; nothing changed."))
        self.print_logins()

    def print_logins(self):
        """The demo logins. These passwords are public (they are in erp/demo_data.py): demo
        use only, and seed_demo refuses to run with DEBUG off unless forced."""
        rows = [("login", "password", "role", "warehouses")]
        rows += [(u.username, u.password, u.role, ", ".join(u.scoped_to) or "all") for u in USERS]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        self.stdout.write("Demo logins (set when the user is first created):")
        for n, row in enumerate(rows):
            cells = (cell.ljust(w) for cell, w in zip(row, widths, strict=True))
            self.stdout.write(("  " + "  ".join(cells)).rstrip())
            if n == 0:
                self.stdout.write("  " + "  ".join("-" * w for w in widths))
