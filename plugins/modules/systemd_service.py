#!/usr/bin/python
"""Documentation only: hyperpod.slurm.systemd_service is its action plugin, plugins/action/systemd_service.py."""

DOCUMENTATION = r"""
module: systemd_service
short_description: ansible.builtin.systemd_service, without a module run for a unit already as wanted
description:
  - Takes the options of M(ansible.builtin.systemd_service) and returns what it returns.
  - With only O(name), O(state) (C(started) or C(stopped)) and O(enabled), it first reads the unit
    with one C(systemctl show). When the unit is loaded, running (or not) as asked, and its
    UnitFileState is C(enabled) (or C(disabled)) as asked, the task is done, unchanged, without a
    module run (0.15-0.2 s of CPU each, bench/RESULTS.md). Otherwise M(ansible.builtin.systemd_service)
    runs and decides, as always.
  - C(restarted), C(reloaded), a true O(daemon_reload), any other option, async and the
    C(environment) keyword always run the module.
version_added: 1.3.0
author: hyperpod.slurm
options:
  name:
    description: The unit.
    type: str
  state:
    description: As for M(ansible.builtin.systemd_service).
    type: str
    choices: [started, stopped, restarted, reloaded]
  enabled:
    description: As for M(ansible.builtin.systemd_service).
    type: bool
  daemon_reload:
    description: As for M(ansible.builtin.systemd_service) (true runs the module).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
seealso:
  - module: ansible.builtin.systemd_service
"""

EXAMPLES = r"""
- name: Start munge
  hyperpod.slurm.systemd_service:
    name: munge
    enabled: true
    state: started
"""

RETURN = r"""
status:
  description: >-
    The unit's properties: all of them when the module ran, LoadState, ActiveState and
    UnitFileState when the read settled the task.
  type: dict
  returned: when a unit is named
"""
