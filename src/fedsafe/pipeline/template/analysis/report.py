"""A table and a chart of diabetes by age band, with small numbers hidden and counts rounded.

Runs in fedsafe's python:v1 runtime (pandas, matplotlib and the fedsafe_analysis helpers).
"""

import matplotlib.pyplot as plt
from fedsafe_analysis import action_config, read_dataset, round_counts

config = action_config()
dataset = read_dataset("output/dataset.arrow")

table = (
    dataset.groupby("age_band")
    .agg(patients=("has_diabetes", "size"), with_diabetes=("has_diabetes", "sum"))
    .reset_index()
)
for column in ("patients", "with_diabetes"):
    table[column] = round_counts(
        table[column], threshold=config.get("threshold", 7), base=config.get("rounding", 5)
    )
table.to_csv("output/diabetes_by_age_band.csv", index=False)

figure, axes = plt.subplots(figsize=(6, 4))
axes.bar(table["age_band"], table["with_diabetes"].fillna(0).astype(float), color="#4c72b0")
axes.set_xlabel("Age band")
axes.set_ylabel("Patients with diabetes (rounded)")
axes.set_title("Diabetes by age band")
figure.tight_layout()
figure.savefig("output/diabetes_by_age_band.png", dpi=100)
print(table.to_string(index=False))
