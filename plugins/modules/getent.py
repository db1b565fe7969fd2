#!/usr/bin/python
"""Documentation only: hyperpod.slurm.getent is its action plugin, plugins/action/getent.py."""

DOCUMENTATION = r"""
module: getent
short_description: ansible.builtin.getent, without a module run for a whole passwd or group database
description:
  - Takes the options of M(ansible.builtin.getent) and returns what it returns (the fact
    C(getent_<database>)).
  - With only O(database), one of C(passwd), C(group), C(shadow), C(gshadow), it runs C(getent)
    through the connection's shell and makes the facts as the module makes them, without a module
    run (0.15-0.2 s of CPU each, bench/RESULTS.md). Anything else runs M(ansible.builtin.getent).
version_added: 1.3.0
author: hyperpod.slurm
options:
  database:
    description: As for M(ansible.builtin.getent).
    type: str
    required: true
  key:
    description: As for M(ansible.builtin.getent) (runs the module).
    type: str
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
seealso:
  - module: ansible.builtin.getent
"""

EXAMPLES = r"""
- name: Read this node's users
  hyperpod.slurm.getent:
    database: passwd
"""

RETURN = r"""
ansible_facts:
  description: C(getent_<database>), each name to its fields.
  type: dict
  returned: always
"""
