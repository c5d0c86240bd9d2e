"""Finding which of A's cohort B holds, by private set intersection (``openmined-psi``).

A (the backend running the study) is the PSI client with its cohort's pseudonyms only, never its
whole population; B (the provider) is the server with its population's pseudonyms. Messages,
each relayed through the coordinator as opaque bytes:

1. A -> B: :meth:`Requester.request` (A's pseudonyms, each blinded with A's PSI key).
2. B -> A: :meth:`Provider.respond` (A's items re-blinded with B's key, plus B's set blinded
   with B's key in a compressed filter; neither can be unblinded by anyone).
3. A learns the intersection: :meth:`Requester.matched`.
4. A -> B: the matched pseudonyms, sealed to B's job key (:mod:`.sealing`), so B can return
   rows for exactly those patients and for no one else.

So B learns only the patients it has to send, and A only which of its cohort B holds (which it
learns anyway from the rows); the coordinator learns sizes. The filter has a false-positive
rate (``FPR``); a false positive only means B finds no rows for that pseudonym.

The documented fallback, :func:`fallback_match`, is step 1 done plainly: A sends its cohort's
pseudonyms (sealed to B) and B intersects. B then learns the pseudonyms of A's whole cohort,
which it cannot invert but can count; it is for when the PSI package cannot be installed.
"""

from __future__ import annotations

from collections.abc import Sequence

import private_set_intersection.python as psi

from fedsafe.linkage.errors import LinkageError

__all__ = [
    "FPR",
    "Provider",
    "Requester",
    "decode_pseudonyms",
    "encode_pseudonyms",
    "fallback_match",
]

FPR = 1e-9


def _parse(kind: type, data: bytes, what: str):  # type: ignore[no-untyped-def]
    message = kind()
    try:
        message.ParseFromString(data)
    except Exception:  # protobuf raises its own DecodeError and others
        raise LinkageError(f"the {what} message from the other backend is malformed") from None
    return message


class Requester:
    """A's side: holds its PSI key and its cohort's pseudonyms for the job's lifetime only."""

    def __init__(self, pseudonyms: Sequence[str]) -> None:
        self._items = list(pseudonyms)
        self._client = psi.client.CreateWithNewKey(True)

    def request(self) -> bytes:
        return self._client.CreateRequest(self._items).SerializeToString()

    @property
    def size(self) -> int:
        return len(self._items)

    def matched(self, setup: bytes, response: bytes) -> list[str]:
        """The cohort pseudonyms B also holds, in A's order."""
        indices = self._client.GetIntersection(
            _parse(psi.ServerSetup, setup, "PSI setup"),
            _parse(psi.Response, response, "PSI response"),
        )
        return [self._items[i] for i in sorted(indices)]


class Provider:
    """B's side: answers one request about its population's pseudonyms."""

    def __init__(self, pseudonyms: Sequence[str]) -> None:
        self._items = list(pseudonyms)
        self._server = psi.server.CreateWithNewKey(True)

    def respond(self, request: bytes, cohort_size: int) -> tuple[bytes, bytes]:
        """(setup, response) for A's request of ``cohort_size`` items."""
        parsed = _parse(psi.Request, request, "PSI request")
        if len(parsed.encrypted_elements) != cohort_size:
            raise LinkageError(
                f"the PSI request holds {len(parsed.encrypted_elements)} items, not the "
                f"{cohort_size} announced"
            )
        setup = self._server.CreateSetupMessage(
            FPR, cohort_size, self._items, psi.DataStructure.GCS
        )
        response = self._server.ProcessRequest(parsed)
        return setup.SerializeToString(), response.SerializeToString()


def fallback_match(cohort: Sequence[str], population: Sequence[str]) -> list[str]:
    """FALLBACK, not the default: B intersects A's cohort pseudonyms with its own plainly."""
    have = set(population)
    return [p for p in cohort if p in have]


def encode_pseudonyms(pseudonyms: Sequence[str]) -> bytes:
    """Pseudonyms as bytes to seal: 32 raw bytes each."""
    out = []
    for pseudonym in pseudonyms:
        try:
            raw = bytes.fromhex(pseudonym)
        except ValueError:
            raw = b""
        if len(raw) != 32:
            raise LinkageError("a pseudonym is not 64 hex digits")
        out.append(raw)
    return b"".join(out)


def decode_pseudonyms(data: bytes) -> list[str]:
    if len(data) % 32:
        raise LinkageError("the matched-pseudonyms message is not a whole number of pseudonyms")
    return [data[i : i + 32].hex() for i in range(0, len(data), 32)]
