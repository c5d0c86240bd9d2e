"""Request states, their owners and the allowed transitions, held as data.

Who may write to a request is decided by its state alone (one owner per state), and each move
from one state to another is one row of ``TRANSITIONS``; a test checks that both tables cover
every state, so adding a state without deciding its owner fails the build.
"""

from __future__ import annotations

import enum

__all__ = ["OWNERS", "TRANSITIONS", "Owner", "Status", "Vote"]


class Status(enum.Enum):
    PENDING = "pending"
    SUBMITTED = "submitted"
    PARTIALLY_REVIEWED = "partially reviewed"
    REVIEWED = "reviewed"
    RETURNED = "returned"
    APPROVED = "approved"
    REJECTED = "rejected"
    RELEASED = "released"
    WITHDRAWN = "withdrawn"


class Owner(enum.Enum):
    AUTHOR = "author"
    CHECKERS = "output checkers"
    SYSTEM = "the airlock (uploading)"
    NOBODY = "nobody (final)"


class Vote(enum.Enum):
    APPROVE = "approve"
    CHANGES = "request changes"


OWNERS: dict[Status, Owner] = {
    Status.PENDING: Owner.AUTHOR,
    Status.SUBMITTED: Owner.CHECKERS,
    Status.PARTIALLY_REVIEWED: Owner.CHECKERS,
    Status.REVIEWED: Owner.CHECKERS,
    Status.RETURNED: Owner.AUTHOR,
    Status.APPROVED: Owner.SYSTEM,
    Status.REJECTED: Owner.NOBODY,
    Status.RELEASED: Owner.NOBODY,
    Status.WITHDRAWN: Owner.NOBODY,
}

# (from, to) -> who moves it. SYSTEM moves are made by the airlock itself when a condition is met
# (reviews counted, every file uploaded, or the automatic-release policy).
TRANSITIONS: dict[tuple[Status, Status], Owner] = {
    (Status.PENDING, Status.SUBMITTED): Owner.AUTHOR,
    (Status.PENDING, Status.WITHDRAWN): Owner.AUTHOR,
    (Status.SUBMITTED, Status.PARTIALLY_REVIEWED): Owner.SYSTEM,
    (Status.SUBMITTED, Status.APPROVED): Owner.SYSTEM,  # automatic release only
    (Status.PARTIALLY_REVIEWED, Status.REVIEWED): Owner.SYSTEM,
    # Reviews of a file whose content changed are reset, which can take a request back.
    (Status.PARTIALLY_REVIEWED, Status.SUBMITTED): Owner.SYSTEM,
    (Status.REVIEWED, Status.PARTIALLY_REVIEWED): Owner.SYSTEM,
    (Status.REVIEWED, Status.SUBMITTED): Owner.SYSTEM,
    (Status.REVIEWED, Status.RETURNED): Owner.CHECKERS,
    (Status.REVIEWED, Status.APPROVED): Owner.CHECKERS,
    (Status.REVIEWED, Status.REJECTED): Owner.CHECKERS,
    (Status.RETURNED, Status.SUBMITTED): Owner.AUTHOR,
    (Status.RETURNED, Status.WITHDRAWN): Owner.AUTHOR,
    (Status.APPROVED, Status.RELEASED): Owner.SYSTEM,
    # Just before upload the release ledger may find differencing with a release made since
    # approval: nothing is sent and the request goes back to its author.
    (Status.APPROVED, Status.RETURNED): Owner.SYSTEM,
}
