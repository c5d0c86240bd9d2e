"""The identifiers the Five Safes RO-Crate profile 0.4 uses, in one place."""

from __future__ import annotations

__all__ = [
    "ACTIVE",
    "COMPLETED",
    "FAILED",
    "POTENTIAL",
    "PROFILE",
    "RO_CRATE_VERSIONS",
    "SHA512",
    "SHP",
    "STATUSES",
    "WORKFLOW_CRATE",
]

PROFILE = "https://w3id.org/5s-crate/0.4"
WORKFLOW_CRATE = "https://w3id.org/workflowhub/workflow-ro-crate/1.0"
SHP = "https://w3id.org/shp#"
SHA512 = "https://www.iana.org/assignments/named-information#sha-512"

POTENTIAL = "http://schema.org/PotentialActionStatus"
ACTIVE = "http://schema.org/ActiveActionStatus"
COMPLETED = "http://schema.org/CompletedActionStatus"
FAILED = "http://schema.org/FailedActionStatus"
STATUSES = (POTENTIAL, ACTIVE, COMPLETED, FAILED)

# "MUST conform to RO-Crate 1.2 (or later minor version)"
RO_CRATE_VERSIONS = ("https://w3id.org/ro/crate/1.2", "https://w3id.org/ro/crate/1.3")
