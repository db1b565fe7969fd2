"""Data from the input files, marked so that Ansible never evaluates it as a template.

ansible-core 2.19 and later template only what is trusted, and data from an inventory plugin or a
filter is not: there, marking changes nothing. ansible-core 2.17 (the newest for Python 3.10,
HyperPod's Ubuntu 22.04) templates every string it reads from a variable, unless it is an
AnsibleUnsafeText: a `{{ lookup('pipe', ...) }}` in a cluster's ARN or a user's home would run as a
command, as root, when a role reads the variable. Ansible's own wrap_var marks a value and
everything inside it, on every version (on 2.19+ it only strips a trust mark); should a later
Ansible drop it, there is nothing left to mark.

Needs Ansible: imported by the inventory plugin and the filters only, never by the cluster model.
"""

import functools

try:
    from ansible.utils.unsafe_proxy import wrap_var as unsafe
except ImportError:  # pragma: no cover - an ansible-core without unsafe_proxy trusts nothing by default
    def unsafe(value):
        return value


def returns_unsafe(function):
    """A filter whose result is marked unsafe: it is built from inventory data, and a filter's plain
    string result stored by set_fact would be templated again on ansible-core 2.17."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        return unsafe(function(*args, **kwargs))
    return wrapper
