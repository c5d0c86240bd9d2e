"""The study's codelists: a downloaded SNOMED CT list, and ICD-10 prefixes written here."""

from ehrql import codelist_from_csv

cancer = codelist_from_csv(
    "codelists/opensafely-cancer-excluding-lung-and-haematological-snomed.csv", column="id"
)
# Colorectal cancer: malignant neoplasms of colon, rectosigmoid junction and rectum.
colorectal_icd10 = ["C18", "C19", "C20"]
emergency_admission_methods = ["21", "22", "23", "24", "25", "2A", "2B", "2C", "2D", "28"]
