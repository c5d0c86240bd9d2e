"""The study's codelists, read from the project's codelists/ folder (paths from the root)."""

from ehrql import codelist_from_csv

osteoarthritis = codelist_from_csv(
    "codelists/user-speed-vm-osteoarthritis-snomed-ct.csv", column="code"
)
medicines = {
    "opioids": codelist_from_csv("codelists/opensafely-strongopioidsCW-dmd.csv", column="dmd_id"),
    "nsaids": codelist_from_csv("codelists/user-speed-vm-nsaids-dmd.csv", column="dmd_id"),
}

# Trauma and orthopaedics, orthopaedics and spinal surgery treatment function codes.
orthopaedic_functions = ["110", "108", "111"]
