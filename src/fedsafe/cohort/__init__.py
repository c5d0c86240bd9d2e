"""Cohort discovery: "how many patients like this are there?", answered safely by one backend.

Availability queries (RQuest v2 JSON or fedsafe's own small JSON form) become a
:class:`~fedsafe.cohort.model.AvailabilityQuery`, compile to a query-model population condition
(so they run on every engine), and are answered by :func:`fedsafe.cohort.answer.answer_count`,
which applies the backend's :class:`~fedsafe.cohort.policy.CohortCountPolicy`, consults the
differencing ledger and writes the raw count only to the backend's local audit log.
"""
