"""Diabetes, NSAID prescribing and deaths by age band, safe to release: small counts hidden,
the rest rounded. Runs in fedsafe's python:v1 runtime."""

import matplotlib.pyplot as plt
from fedsafe_analysis import action_config, read_dataset, round_counts

config = action_config()
dataset = read_dataset("output/dataset.parquet")
dataset["on_nsaids"] = dataset["nsaids_last_year"] > 0

table = (
    dataset.groupby("age_band")
    .agg(
        patients=("age", "size"),
        with_diabetes=("has_diabetes", "sum"),
        on_nsaids=("on_nsaids", "sum"),
        died_within_a_year=("died_within_a_year", "sum"),
    )
    .reset_index()
)
for column in ("patients", "with_diabetes", "on_nsaids", "died_within_a_year"):
    table[column] = round_counts(
        table[column], threshold=config["threshold"], base=config["rounding"]
    )
table.to_csv("output/summary_by_age_band.csv", index=False)

figure, axes = plt.subplots(figsize=(6, 4))
share = table["with_diabetes"].astype(float) / table["patients"].astype(float) * 100
axes.bar(table["age_band"], share.fillna(0), color="#4c72b0")
axes.set_xlabel("Age band")
axes.set_ylabel("Patients with diabetes (%)")
axes.set_title("Diabetes by age band (synthetic data)")
figure.tight_layout()
figure.savefig("output/diabetes_by_age_band.png", dpi=100)
print(table.to_string(index=False))
