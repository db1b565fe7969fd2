"""Which facts a templated setting may read in the bundle's run, checked before the run (settings.py):
a template that names a fact the run does not have would stop the run halfway, as undefined.

* Facts are only under ansible_facts[...] (ansible.cfg: inject_facts_as_vars = False), so a
  top-level copy such as ansible_hostname is undefined (`injected_fact`).
* The run reads only the facts the roles use (SITE_FACTS, as playbooks/site.yml's setup tasks
  filter them; the observability role gathers the network facts for itself), so
  ansible_facts['fqdn'], say, is undefined too (`ungathered_fact`).

Both know a fact by the names of ansible-core's fact collectors and the common facts they leave
unlisted; any other name under ansible_facts (a role's getent results, custom facts) is let through.
"""

import functools
import itertools
import re

from ansible import constants as C

# Facts that the collectors set but do not list in their _fact_ids.
UNLISTED_FACTS = {"hostname", "nodename", "fqdn", "domain", "userspace_bits", "userspace_architecture", "memtotal_mb",
                  "memfree_mb", "swaptotal_mb", "processor_vcpus", "processor_threads_per_core", "product_name",
                  "bios_version", "board_name", "form_factor", "uptime_seconds"}
# ansible_facts['name'], ansible_facts["name"], ansible_facts.name, ansible_facts.get('name')
READ_UNDER_FACTS = re.compile(r"""\bansible_facts\s*(?:\[\s*(['"])(\w+)\1|\.get\(\s*(['"])(\w+)\3|\.(\w+))""")
# The facts playbooks/site.yml's setup tasks keep (their `filter`), without the ansible_ prefix
# (tests/unit/test_fact_names.py keeps the two in step).
SITE_FACTS = frozenset({"architecture", "distribution", "distribution_release", "hostname", "kernel", "os_family",
                        "processor_vcpus", "memtotal_mb"})


def is_template(value):
    """Whether Ansible would render value: a string with an expression or a statement."""
    return isinstance(value, str) and ("{{" in value or "{%" in value)


@functools.cache
def known_facts():
    """Every fact name, without the ansible_ prefix, less Ansible's own variables (ansible_user is
    the connection's user, not a fact). Built on first use: importing every fact collector costs a
    node's start-up about 25 ms, which only a template naming a fact needs."""
    from ansible.module_utils.facts import default_collectors
    facts = {fact for collector in default_collectors.collectors for fact in (collector.name, *collector._fact_ids)}
    facts |= UNLISTED_FACTS
    return facts - {name[len("ansible_"):] for name in (*C.INTERNAL_STATIC_VARS,
                                                        *itertools.chain.from_iterable(C.MAGIC_VARIABLE_MAPPING.values()))}


@functools.cache
def injected_fact_pattern():
    return re.compile(r"\bansible_(" + "|".join(sorted(known_facts(), key=len, reverse=True)) + r")\b")


def templates(value):
    """The templates in value: a string, or the strings inside its lists and mappings."""
    if is_template(value):
        yield value
    elif isinstance(value, (dict, list)):
        for item in value.values() if isinstance(value, dict) else value:
            yield from templates(item)


def injected_fact(value):
    """The first fact that a template in value names by its top-level copy, ansible_<fact>; None
    where there is none."""
    for template in templates(value):
        found = injected_fact_pattern().search(template) if "ansible_" in template else None
        if found:
            return found.group(1)
    return None


def ungathered_fact(value):
    """The first known fact that a template in value reads under ansible_facts and the bundle's run
    does not gather (gathered_facts); None where there is none."""
    for template in templates(value):
        for match in READ_UNDER_FACTS.finditer(template) if "ansible_facts" in template else ():
            fact = match.group(2) or match.group(4) or match.group(5)
            if fact in known_facts() and fact not in gathered_facts():
                return fact
    return None


@functools.cache
def gathered_facts():
    """The facts the bundle's run has: SITE_FACTS, and the network facts the observability role
    gathers for its own tasks."""
    from ansible.module_utils.facts.network.base import NetworkCollector
    return SITE_FACTS | NetworkCollector._fact_ids


def problem(value):
    """(problem, fix) for the first fact that a template in value names and the run does not have;
    None where there is none."""
    fact = injected_fact(value)
    if fact:
        return (f"a template in it names ansible_{fact}, and facts are only under ansible_facts here "
                "(ansible.cfg: inject_facts_as_vars = False)", f"write ansible_facts['{fact}'] instead")
    fact = ungathered_fact(value)
    if fact:
        return (f"a template in it reads ansible_facts['{fact}'], which the run does not gather (it has "
                f"{', '.join(sorted(SITE_FACTS))}, and the network facts in the observability role)",
                "use one of those, or an inventory variable (inventory_hostname, hyperpod_*)")
    return None
