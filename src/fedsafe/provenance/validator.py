"""Running ``roc-validator`` offline, with the JSON-LD context the ``rocrate`` package ships.

roc-validator resolves a crate's ``@context`` over HTTP through its requests-cache. There is
no network here (nor, often, in a TRE), so the context ``rocrate`` ships is put into a fresh
cache under the context's URL and the validator runs with ``offline=True``: any other remote
lookup fails loudly instead of silently passing.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ValidatorIssue", "prime_context_cache", "validate_crate"]


@dataclass(frozen=True)
class ValidatorIssue:
    check: str
    severity: str
    message: str


def prime_context_cache(cache_path: Path) -> list[str]:
    """Store the RO-Crate context shipped by ``rocrate`` in a requests-cache database at
    ``cache_path`` (a path without the .sqlite suffix). Returns the URLs cached."""
    import requests
    import requests_cache
    import rocrate
    import urllib3

    body = (Path(rocrate.__file__).parent / "data" / "ro-crate.jsonld").read_bytes()
    context_id = json.loads(body)["@id"]  # https://w3id.org/ro/crate/1.3/context
    session = requests_cache.CachedSession(str(cache_path), backend="sqlite", expire_after=-1)
    try:
        response = requests.Response()
        response.status_code = 200
        response.url = context_id
        response._content = body
        response.encoding = "utf-8"
        response.headers["Content-Type"] = "application/ld+json"
        response.request = requests.Request("GET", context_id).prepare()
        response.raw = urllib3.HTTPResponse(
            body=io.BytesIO(body),
            headers={"Content-Type": "application/ld+json"},
            status=200,
            preload_content=False,
            request_url=context_id,
        )
        session.cache.save_response(response)
    finally:
        session.close()
    return [context_id]


def validate_crate(
    crate_dir: Path, cache_path: Path, profile: str = "ro-crate-1.3"
) -> list[ValidatorIssue]:
    """Validate the crate folder (the bag's ``data/``) at severity REQUIRED, offline, and
    return every issue found (none means it passed)."""
    from rocrate_validator import models, services

    settings = models.ValidationSettings(
        rocrate_uri=str(crate_dir.resolve()),
        profile_identifier=profile,
        requirement_severity=models.Severity.REQUIRED,
        offline=True,
        cache_path=cache_path,
    )
    result = services.validate(settings)
    issues = [
        ValidatorIssue(i.check.identifier, str(i.severity.name), i.message)
        for i in result.get_issues()
    ]
    if not issues and not result.passed():
        issues.append(ValidatorIssue("result", "REQUIRED", "the validator did not pass the crate"))
    return issues
