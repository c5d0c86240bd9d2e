"""``ehrql.tables.beta``: where ehrQL's schemas lived before they left beta.

Published studies written then still import ``ehrql.tables.beta.tpp`` and the like; each module
here serves the current schema of the same name.
"""
