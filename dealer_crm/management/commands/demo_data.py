"""Load the demo dealer group (once) and print the demo logins."""

from django.core.management.base import BaseCommand
from django.utils import translation

from dealer_crm.demo import (
    BRANCHES,
    DEMO_ADMIN_USERNAME,
    DEMO_LOGINS,
    DEMO_PASSWORD,
    DEMO_STAFF_NAMES,
    demo_data_load,
)


def _role_label(role) -> str:
    """The role in Chinese and English: the person starting the system may read either."""
    with translation.override("zh-hans"):
        chinese = str(role.label)
    with translation.override("en"):
        english = str(role.label)
    return chinese if chinese == english else f"{chinese} ({english})"


def _width(text: str) -> int:
    """Columns on a terminal: Chinese characters take two."""
    return sum(2 if ord(character) > 0x2E7F else 1 for character in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


class Command(BaseCommand):
    help = "Load the demo data (a dealer group, two branches, staff and customers) once."

    def handle(self, *args, **options):
        demo_data_load(stdout=self.stdout)
        branch_names = {spec["code"]: spec["name"] for spec in BRANCHES}
        rows = [("username", "name", "role", "branch")]
        rows += [
            (
                login.username,
                "".join(DEMO_STAFF_NAMES[login.username]),
                _role_label(login.role),
                ", ".join(branch_names[code] for code in login.branches),
            )
            for login in DEMO_LOGINS
        ]
        rows.append((DEMO_ADMIN_USERNAME, "", "superuser (Django admin)", "—"))
        widths = [max(_width(row[column]) for row in rows) for column in range(len(rows[0]))]
        self.stdout.write("")
        self.stdout.write("Demo logins:")
        for index, row in enumerate(rows):
            self.stdout.write(
                ("  " + "  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row))).rstrip()
            )
            if index == 0:
                self.stdout.write("  " + "  ".join("-" * width for width in widths))
        self.stdout.write(f"Password for every demo login: {DEMO_PASSWORD}")
