"""The language researchers write dataset definitions in, following ehrQL's documented semantics."""

from fedsafe.codes import Codelist, codelist_from_csv, codelist_from_csv_lines
from fedsafe.language.dataset import Dataset, create_dataset
from fedsafe.language.frames import EventFrame, PatientFrame, Series, table
from fedsafe.language.functions import case, maximum_of, minimum_of, when
from fedsafe.language.measures import INTERVAL, Measures, create_measures
from fedsafe.language.parameters import get_parameter
from fedsafe.language.series import (
    BoolEventSeries,
    BoolPatientSeries,
    CodeEventSeries,
    CodePatientSeries,
    DateDifference,
    DateEventSeries,
    DatePatientSeries,
    Duration,
    FloatEventSeries,
    FloatPatientSeries,
    IntEventSeries,
    IntPatientSeries,
    StrEventSeries,
    StrPatientSeries,
    days,
    months,
    weeks,
    years,
)

__all__ = [
    "INTERVAL",
    "BoolEventSeries",
    "BoolPatientSeries",
    "CodeEventSeries",
    "CodePatientSeries",
    "Codelist",
    "Dataset",
    "DateDifference",
    "DateEventSeries",
    "DatePatientSeries",
    "Duration",
    "EventFrame",
    "FloatEventSeries",
    "FloatPatientSeries",
    "IntEventSeries",
    "IntPatientSeries",
    "Measures",
    "PatientFrame",
    "Series",
    "StrEventSeries",
    "StrPatientSeries",
    "case",
    "codelist_from_csv",
    "codelist_from_csv_lines",
    "create_dataset",
    "create_measures",
    "days",
    "get_parameter",
    "maximum_of",
    "minimum_of",
    "months",
    "table",
    "weeks",
    "when",
    "years",
]
