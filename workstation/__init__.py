"""Commands that run on the user's workstation, never on a node: validate, bundle, upload.

bootstrap.py imports these lazily, only for those subcommands. The bundle leaves this package
out: nodes need none of it, and what is not shipped cannot break a node.
"""
