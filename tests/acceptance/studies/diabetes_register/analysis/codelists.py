"""The study's codelists, read from the project's codelists/ folder (paths from the root)."""

from ehrql import codelist_from_csv

diabetes = codelist_from_csv("codelists/nhsd-primary-care-domain-refsets-dm_cod.csv", column="code")
ethnicity6 = codelist_from_csv(
    "codelists/opensafely-ethnicity-snomed-0removed.csv",
    column="snomedcode",
    category_column="Grouping_6",
)
