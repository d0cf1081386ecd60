"""didan-lite: cross-corpus speech emotion recognition with implicit distribution alignment.

The package is organised one module per concept, data flowing one way::

    manifest -> features -> (synthetic writes manifests) -> model -> alignment
             -> training -> metrics -> plots -> experiment -> cli

Notebooks: notebooks/README.md lists the teaching sequence.
"""

__version__ = "0.1.0"
