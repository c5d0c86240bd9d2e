"""Weekly intervals from a start date, as measures-style studies count over them."""

import datetime


def weekly(start, count):
    """``count`` (first day, last day) pairs of consecutive weeks from ``start``."""
    return [
        (start + datetime.timedelta(weeks=i), start + datetime.timedelta(weeks=i, days=6))
        for i in range(count)
    ]
