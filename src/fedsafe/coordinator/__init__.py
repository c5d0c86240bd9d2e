"""The coordinator: a Django app that holds projects, workspaces, backends and job requests,
serves the agent API and the public jobs log.

It never runs a query and never holds patient data: agents pull work from it and report only
states, timings and short error summaries (see ``fedsafe.agent_protocol``).
"""
