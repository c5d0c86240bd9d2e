"""The query model: the contract between untrusted user code and trusted engines.

Nodes are small immutable values validated when built, so an invalid query cannot exist and
engines never re-validate. Everything here serialises to JSON and back exactly.
"""
