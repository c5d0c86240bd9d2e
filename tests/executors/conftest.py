"""Every test here shares one cache of built runtimes."""

from runtime_cache import runtime_cache  # noqa: F401
