"""Commands that run on the user's workstation, never on a node: validate, bundle, upload
(`python -m workstation`, see cli.py). The bundle leaves this package out: nodes need none of it,
and what is not shipped cannot break a node.

The checks validate shares with the nodes come from the collection's cluster model
(plugins/plugin_utils) and from lifecycle/settings.py, both imported by name (importing lifecycle
makes this checkout the collection hyperpod.slurm).
"""

import lifecycle  # noqa: F401 - this checkout as the collection hyperpod.slurm, before any module here
