"""The version of the JSON exchanged between the loader and its child.

Kept apart from both so that the trusted side can know it without importing the child module
(which ``python -m`` must import fresh).
"""

PROTOCOL = 1
