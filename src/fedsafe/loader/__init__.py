"""Evaluating untrusted dataset definitions in a confined process.

The trusted process never imports a researcher's code: it asks a sandboxed child to run it and
gets back only a serialised query model.
"""

from fedsafe.loader.load import (
    DefinitionLoadError,
    LoadedDefinition,
    LoadedMeasures,
    load_dataset_definition,
    load_measures_definition,
)

__all__ = [
    "DefinitionLoadError",
    "LoadedDefinition",
    "LoadedMeasures",
    "load_dataset_definition",
    "load_measures_definition",
]
