"""fedsafe: federated analytics on sensitive health records.

Researchers import the language from here (``from fedsafe import create_dataset, codelist_from_csv``).
"""

__version__ = "0.1.0"
