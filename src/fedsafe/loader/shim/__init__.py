"""A stand-in ``ehrql`` package so that published ehrQL definitions run unchanged.

The loader's child puts this folder at the front of ``sys.path`` only when the real ehrQL is not
installed; ``ehrql`` then resolves to ``shim/ehrql``, whose modules re-export fedsafe's. This
file only makes the folder a package so that it is installed along with fedsafe.
"""
