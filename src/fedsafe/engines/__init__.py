"""Engines: query model -> Ibis expression -> SQL on a database, results as Arrow."""
