"""Customer search: the trigram indexes against a sequential scan, on many customers.

    DATABASE_URL=... REDIS_URL=... python bench/search.py [--customers 50000]

Creates a scratch database `<name>_bench`, fills it with customers and vehicles, and times the
one-box search (part of a name, 4 phone digits, the end of a VIN, a plate) with the indexes and
with index scans disabled. Reports the ratio; the numbers depend on the machine, the ratio
much less.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dealer_crm.settings.local")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

TERMS = {
    "full name": "王建国",
    "2-char name": "建国",
    "phone digits": "5678",
    "VIN end": "123456",
    "plate": "A1234",
}


def fill(customers: int) -> None:
    from customers.models import Customer, Vehicle
    from customers.vin import vin_check_digit
    from dealer_crm.models import Branch, DealerGroup

    group = DealerGroup.objects.create(name="bench")
    branch = Branch.objects.create(group=group, code="bench", name="bench")
    surnames, given = (
        "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗",
        "伟芳敏静丽强磊军洋艳勇杰娟涛明超霞平建国",
    )
    batch = []
    for n in range(customers):
        name = surnames[n % 20] + given[(n // 20) % 19] + given[(n // 380) % 19]
        batch.append(Customer(name=name, mobile=f"13{n % 10**9:09d}", branch=branch))
    Customer.objects.bulk_create(batch, batch_size=5000)
    vehicles = []
    for n, pk in enumerate(Customer.objects.values_list("pk", flat=True)):
        body = f"LSVAB2BM0MN{n:06d}"
        vehicles.append(
            Vehicle(
                owner_id=pk,
                vin=body[:8] + vin_check_digit(body) + body[9:],
                plate=f"粤{'ABCDEFGHJK'[n // 10**5]}{n % 10**5:05d}",
            )
        )
    Vehicle.objects.bulk_create(vehicles, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def timed(term: str, *, indexes: bool, repeats: int) -> float:
    from customers.filters import customer_search_condition
    from customers.models import Customer

    samples = []
    with connection.cursor() as cursor:
        for setting in ("enable_indexscan", "enable_bitmapscan"):
            cursor.execute(f"SET {setting} = {'on' if indexes else 'off'}")
    for _ in range(repeats):
        start = time.perf_counter()
        list(Customer.objects.filter(customer_search_condition(term))[:25])
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    original_name = connection.settings_dict["NAME"]
    connection.settings_dict["TEST"]["NAME"] = f"{original_name}_bench"
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        fill(args.customers)
        print(f"{args.customers} customers with a vehicle each; median of {args.repeats} runs")
        print(f"{'search':<14}{'indexed ms':>12}{'seq scan ms':>13}{'ratio':>8}")
        for label, term in TERMS.items():
            indexed = timed(term, indexes=True, repeats=args.repeats)
            scanned = timed(term, indexes=False, repeats=args.repeats)
            print(
                f"{label:<14}{indexed * 1000:>12.1f}{scanned * 1000:>13.1f}"
                f"{scanned / indexed:>7.1f}x"
            )
    finally:
        connection.creation.destroy_test_db(original_name, verbosity=0)


if __name__ == "__main__":
    main()
