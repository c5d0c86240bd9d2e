"""Ages on a date, from the smoketest schema that every backend provides.

Shaped like the platform's smoke test: the one column of the smoketest schema, an index date
from the command line, and ages grouped into bands by a helper module.
"""

import argparse

from bands import ten_year_band
from ehrql import create_dataset
from ehrql.tables.smoketest import patients

parser = argparse.ArgumentParser()
parser.add_argument("--index-date", default="2020-01-01")
args = parser.parse_args()

age = (args.index_date - patients.date_of_birth).years
dataset = create_dataset()
dataset.configure_dummy_data(population_size=80)
dataset.define_population((age >= 0) & (age < 120))
dataset.age = age
dataset.band = ten_year_band(age)
