"""Pipelines: the ``project.yaml`` model, its action graph and the local runner."""
