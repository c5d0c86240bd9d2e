"""Five Safes RO-Crates (profile 0.4): what was asked, what ran, who checked it, what was
released, built with ``rocrate`` and packed as BagIt zips with ``bagit``.

This part works on plain records (``records``), never on the coordinator's models, so it can be
tested, and used by the CLI, without a web app or a database.
"""
