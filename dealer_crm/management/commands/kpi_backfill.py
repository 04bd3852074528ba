"""Compute the figure snapshots of past days: the history before the nightly job ran, or the
days again after records were fixed. Rerunning replaces the same rows."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from dealer_crm.kpis import kpi_snapshots_backfill
from dealer_crm.models import Branch
from dealer_crm.periods import LOCAL_TIME_ZONE, MAX_PERIOD_DAYS


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a date: write it as YYYY-MM-DD.") from None


class Command(BaseCommand):
    help = (
        "Compute the figure snapshots (KPI) of every day from --start to --end, both included, "
        "for every active branch or the one given by --branch."
    )

    def add_arguments(self, parser):
        parser.add_argument("--start", required=True, help="First day, YYYY-MM-DD.")
        parser.add_argument("--end", required=True, help="Last day, YYYY-MM-DD (before today).")
        parser.add_argument("--branch", help="One branch's code; every active branch if left out.")

    def handle(self, *args, start: str, end: str, branch: str | None, verbosity: int, **options):
        first, last = _day(start), _day(end)
        today = timezone.localdate(timezone.now(), LOCAL_TIME_ZONE)
        if last < first:
            raise CommandError("--end is before --start.")
        if last >= today:
            raise CommandError("--end must be before today: today's figures are computed live.")
        if (last - first).days >= MAX_PERIOD_DAYS:
            raise CommandError(f"Backfill at most {MAX_PERIOD_DAYS} days at a time.")
        branches = Branch.objects.filter(is_active=True).order_by("code")
        if branch:
            branches = Branch.objects.filter(code=branch)
            if not branches:
                raise CommandError(f"No branch has the code {branch!r}.")

        def progress(day, for_branch, rows):
            if verbosity > 1:
                self.stdout.write(f"{day:%Y-%m-%d} {for_branch.code}: {rows} rows")

        rows = kpi_snapshots_backfill(
            start=first, end=last, branches=list(branches), progress=progress
        )
        days = (last - first).days + 1
        self.stdout.write(
            self.style.SUCCESS(
                f"{rows} figure rows written for {days} days of {len(branches)} branches."
            )
        )
