"""A backend's agent: pulls its jobs from the coordinator over HTTP, runs each one next to the
data, keeps outputs in the backend's stores and reports back only safe facts (see
``docs/agent.md``). It never imports the coordinator: the two meet over HTTP only, through the
shared :mod:`fedsafe.agent_protocol`."""
