"""Diabetes by age band, made safe as it is made, so a backend's airlock may release it
without waiting for people (its ``auto_release`` policy):

- ``output/diabetes_by_age_band.csv``: a crosstab of age band by diabetes, from fedsafe's safe
  helper ``safe_crosstab`` (small counts suppressed, totals protected, the rest rounded). The
  coordinator pools it: each cell summed over backends, then protected again.
- ``output/diabetes_prevalence.csv``: an estimates file in the ``term,events,total`` form
  (docs/federation.md), one row per age band, each count protected by the backend's policy;
  the coordinator meta-analyses the proportions over backends.

Each file gets a sidecar (``.disclosure.json``) recording the rules applied: that is what lets
the airlock's checker recognise it as safe by construction.
"""

import pyarrow as pa
from fedsafe_analysis import read_dataset

from fedsafe.disclosure import DisclosurePolicy, protect_count
from fedsafe.disclosure.record import count_rules, make_record
from fedsafe.disclosure.safe import safe_crosstab
from fedsafe.disclosure.writing import write_protected_table

policy = DisclosurePolicy.from_environment()  # the backend's, or fedsafe's defaults
data = read_dataset("output/dataset.arrow")
diabetes = data["has_diabetes"].fillna(False).astype(bool)
status = diabetes.map({True: "diabetes", False: "no_diabetes"})

safe_crosstab(
    list(data["age_band"]),
    list(status),
    "output/diabetes_by_age_band.csv",
    row_name="age_band",
    policy=policy,
)

terms, events, totals = [], [], []
for band in sorted(data["age_band"].dropna().unique()):
    in_band = data["age_band"] == band
    event = protect_count(int(diabetes[in_band].sum()), policy)
    total = protect_count(int(in_band.sum()), policy)
    if event is None or total is None or event > total:
        event = total = None  # withheld: the whole row is left empty
    terms.append(f"age_{band}")
    events.append(event)
    totals.append(total)
table = pa.table(
    {
        "term": pa.array(terms, pa.string()),
        "events": pa.array(events, pa.int64()),
        "total": pa.array(totals, pa.int64()),
    }
)
kinds = {"term": "label", "events": "count", "total": "count"}
record = make_record(kinds, count_rules(["events", "total"], policy), policy, None)
write_protected_table(table, "output/diabetes_prevalence.csv", record)
print(f"{len(terms)} age bands summarised")
