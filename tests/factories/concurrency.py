"""Running calls at the same moment, each on its own database connection."""

import threading

from django.db import connection


def run_in_threads(*calls) -> list:
    """Run each call in its own thread (so on its own database connection), started together;
    returns what each returned or raised. Every thread closes its connection when done."""
    start = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            start.wait()
            results[index] = call()
        except Exception as error:  # noqa: BLE001 — the caller inspects what was raised
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results
