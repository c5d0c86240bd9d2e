"""test_data's way out of the sandbox: dates and codes survive, everything else is refused."""

import datetime

import pytest

from fedsafe.codes import SNOMEDCTCode
from fedsafe.loader.test_data_wire import TestDataEncodingError, decode_value, encode_test_data


def test_dates_and_codes_survive_the_round_trip():
    encoded = encode_test_data(
        {1: {"t": [{"d": datetime.date(2020, 2, 29), "c": SNOMEDCTCode("22298006"), "n": 1.5}]}}
    )
    row = encoded["1"]["t"][0]
    assert decode_value(row["d"]) == datetime.date(2020, 2, 29)
    assert row["c"] == "22298006" and row["n"] == 1.5


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([1], "test_data must be a dict"),
        ({1.5: {}}, "patient ids must be whole numbers"),
        (
            {1: {"t": {"d": datetime.datetime(2020, 1, 1)}}},
            r"test_data\[1\]\['t'\]\['d'\]: use a date",
        ),
        ({1: {"t": {"x": {1, 2}}}}, "a set cannot be used in test data"),
        ({1: {"t": {"x": float("nan")}}}, "is not a usable number"),
    ],
)
def test_what_is_not_data_is_refused_with_its_place(value, message):
    with pytest.raises(TestDataEncodingError, match=message):
        encode_test_data(value)


def test_a_tagged_date_that_is_not_a_date_stays_as_given():
    assert decode_value({"$date": "2020-13-01"}) == {"$date": "2020-13-01"}
