#!/usr/bin/python
"""What several paths are, in one module run: a loop of stat tasks at the cost of one task."""

DOCUMENTATION = r"""
module: stat_paths
short_description: Tell whether several paths exist, and what they are, in one module run
description:
  - For each of O(paths), whether it exists, is a folder or a symbolic link, and where a link leads.
    Reads only; never changes anything.
  - One module run for all of them. A loop of M(ansible.builtin.stat) costs a module run per path,
    and each is a measurable part of a no-op rerun (bench/RESULTS.md).
version_added: 1.2.0
author: hyperpod.slurm
options:
  paths:
    description: Absolute paths.
    type: list
    elements: path
    required: true
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Look for pam_slurm_adopt and logrotate
  hyperpod.slurm.stat_paths:
    paths: [/opt/slurm/lib/security/pam_slurm_adopt.so, /lib/security/pam_slurm_adopt.so, /usr/sbin/logrotate]
  register: found

- name: The first module found
  ansible.builtin.debug:
    msg: "{{ found.existing | select('search', 'pam_slurm_adopt') | first | default('none') }}"
"""

RETURN = r"""
existing:
  description: The paths that exist (a link counts when what it leads to exists), in the order given.
  type: list
  elements: str
  returned: always
stat:
  description: >-
    For each path: exists, isdir (a folder, or a link to one), islnk (a symbolic link) and
    lnk_source (the absolute path a link leads to, else null).
  type: dict
  returned: always
"""

import os

from ansible.module_utils.basic import AnsibleModule


def describe(path):
    islnk = os.path.islink(path)
    return {"exists": os.path.exists(path), "isdir": os.path.isdir(path), "islnk": islnk,
            "lnk_source": os.path.realpath(path) if islnk else None}


def main():
    module = AnsibleModule(argument_spec={"paths": {"type": "list", "elements": "path", "required": True}},
                           supports_check_mode=True)
    relative = [path for path in module.params["paths"] if not os.path.isabs(path)]
    if relative:
        module.fail_json(msg="stat_paths: %s not absolute" % ", ".join(relative))
    stat = {path: describe(path) for path in module.params["paths"]}
    module.exit_json(changed=False, stat=stat,
                     existing=[path for path in module.params["paths"] if stat[path]["exists"]])


if __name__ == "__main__":
    main()
