"""fedsafe: federated analytics on sensitive health records.

Researchers import the language from here::

    from fedsafe import create_dataset, codelist_from_csv, days, years
    from fedsafe.tables.core import patients, clinical_events
"""

from fedsafe.language import *  # noqa: F403 - the language is fedsafe's public API
from fedsafe.language import __all__ as _language_all

__version__ = "0.1.0"
__all__ = [*_language_all, "__version__"]
