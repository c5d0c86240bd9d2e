"""Per-job minimal linkage between two backends (issue #15).

A study on backend A may declare, per action in ``project.yaml``, the columns it needs from
backend B's tables. The pieces here, each in its own module, let the two backends do that for one
job only and then prove nothing is left:

- :mod:`.declaration`: the ``linkage:`` block of an action, as checked values;
- :mod:`.schema_check`: the declaration against the logical table schemas;
- :mod:`.permission`: the controllers' grant, and :func:`check_declaration` (pure);
- :mod:`.identifiers`: normalising patient identifiers (NHS numbers), failures counted;
- :mod:`.keys`: the shared linkage secret, per-job keys, pseudonyms, key-check values;
- :mod:`.matching`: private set intersection (``openmined-psi``), and the labelled fallback;
- :mod:`.extract`: B's minimal extract (declared columns, coarsened dates, shuffled rows);
- :mod:`.sealing`: payloads sealed to a key that exists only in A's job;
- :mod:`.vault`: the job's encrypted store, its destruction, and the watchdog;
- :mod:`.audit`: the records both backends write, and the transfer/deletion check.

The modules a coordinator needs (declaration, permission, audit) import no engine, table schema
or query model, so the public side can use them without touching patient data.
"""
