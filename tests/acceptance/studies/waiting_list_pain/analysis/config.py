"""The study's command-line arguments, parsed once and shared by its modules."""

import argparse

from codelists import medicines

parser = argparse.ArgumentParser(description="Pain medicines while waiting for orthopaedics")
parser.add_argument("--start-date", default="2021-05-01")
parser.add_argument("--end-date", default="2022-05-01")
parser.add_argument("--codelist", choices=sorted(medicines), default="opioids")
parser.add_argument("--weeks", type=int, default=26, help="weeks before the clock stop")
args = parser.parse_args()
