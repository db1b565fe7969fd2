#!/usr/bin/python
"""Documentation only: hyperpod.slurm.slurp is its action plugin, plugins/action/slurp.py."""

DOCUMENTATION = r"""
module: slurp
short_description: ansible.builtin.slurp, without a module run
description:
  - Takes the options of M(ansible.builtin.slurp) and returns what it returns (O(src)'s bytes in
    base64).
  - For a regular file named by an absolute O(src) it runs C(base64) through the connection's shell,
    without a module run (0.15-0.2 s of CPU each, bench/RESULTS.md). A missing file, and anything
    else, runs M(ansible.builtin.slurp), which says what is wrong.
version_added: 1.3.0
author: hyperpod.slurm
options:
  src:
    description: The file.
    type: path
    required: true
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
seealso:
  - module: ansible.builtin.slurp
"""

EXAMPLES = r"""
- name: Read slurm.conf
  hyperpod.slurm.slurp:
    src: /etc/slurm/slurm.conf
  register: conf
"""

RETURN = r"""
content:
  description: The file's bytes in base64.
  type: str
  returned: success
"""
