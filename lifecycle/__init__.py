"""bootstrap.py's parts, shipped in the bundle but not in the collection: the bundle as the collection
hyperpod.slurm (collection.py), the inventory of a run (inventory.py), the check of the bundle's
settings against the roles' argument specs (settings.py, also run by `validate`), and the
supervision of a node's run (supervisor.py).

Importing this package makes the bundle (or checkout) it sits in the collection hyperpod.slurm for
this Python process: its modules, bootstrap.py and workstation/ import the cluster model
(plugins/plugin_utils) by its collection name, the one way everyone imports it.
"""

from pathlib import Path

from lifecycle import collection

collection.install_finder(Path(__file__).resolve().parent.parent)
