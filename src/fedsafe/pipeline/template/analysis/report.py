"""A table and a chart of diabetes by age band, safe to release.

``safe_crosstab`` hides small counts (and any count that totals would give back) and rounds
the rest, and records the rules it applied in a sidecar file beside the table, so an output
checker sees the table is safe by construction. Runs in fedsafe's python:v1 runtime.
"""

import matplotlib.pyplot as plt
import pandas as pd
from fedsafe_analysis import read_dataset

from fedsafe.disclosure.safe import safe_crosstab

dataset = read_dataset("output/dataset.arrow")
diabetes = dataset["has_diabetes"].map({True: "diabetes", False: "no diabetes"})
safe_crosstab(
    list(dataset["age_band"]),
    list(diabetes),
    "output/diabetes_by_age_band.csv",
    row_name="age_band",
)

table = pd.read_csv("output/diabetes_by_age_band.csv")
table = table[table["age_band"] != "Total"]
figure, axes = plt.subplots(figsize=(6, 4))
axes.bar(table["age_band"], table["diabetes"].fillna(0), color="#4c72b0")
axes.set_xlabel("Age band")
axes.set_ylabel("Patients with diabetes (rounded; blank if hidden)")
axes.set_title("Diabetes by age band")
figure.tight_layout()
figure.savefig("output/diabetes_by_age_band.png", dpi=100)
print(table.to_string(index=False))
