"""Ten-year age bands."""

from ehrql import case, when


def ten_year_band(age):
    return case(
        *[when(age < upper).then(f"{upper - 10}-{upper - 1}") for upper in range(10, 120, 10)]
    )
