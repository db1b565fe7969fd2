"""Templated settings that read a fact the bundle's run does not have are refused before the run
(lifecycle/fact_names.py): a top-level copy (ansible_hostname; ansible.cfg has inject_facts_as_vars
= False), or a fact site.yml does not gather (ansible_facts['fqdn']). The corpus cases
gv-injected-fact and gv-ungathered-fact show the lines."""

import yaml
from conftest import REPO
from lifecycle import fact_names


def test_a_template_naming_a_fact_by_its_top_level_copy_is_found_in_any_nesting():
    assert fact_names.injected_fact("{{ ansible_hostname }}") == "hostname"
    assert fact_names.injected_fact({"a": ["x", "{% if ansible_default_ipv4.address %}y{% endif %}"]}) == "default_ipv4"
    # Ansible's own variables, the facts under ansible_facts, and text that is not a template are fine.
    for fine in ("{{ ansible_user }}", "{{ ansible_python_interpreter }}", "{{ ansible_facts['hostname'] }}",
                 "{{ ansible_play_hosts }}", "ansible_hostname", 3, None):
        assert fact_names.injected_fact(fine) is None, fine


def test_the_facts_the_check_allows_are_those_site_yml_keeps():
    kept = set()
    for play in yaml.safe_load((REPO / "playbooks" / "site.yml").read_text(encoding="utf-8")):
        for task in play.get("pre_tasks", []) + play.get("tasks", []):
            kept |= {name.removeprefix("ansible_") for name in task.get("ansible.builtin.setup", {}).get("filter", [])}
    assert kept == fact_names.SITE_FACTS
    gathered = fact_names.gathered_facts()
    assert "default_ipv4" in gathered and not {"fqdn", "env", "date_time", "mounts"} & gathered


def test_a_template_reading_a_fact_the_run_does_not_gather_is_found_in_every_spelling():
    for template in ("{{ ansible_facts['fqdn'] }}", '{{ ansible_facts["fqdn"] }}', "{{ ansible_facts.fqdn }}",
                     "{{ ansible_facts.get('fqdn', 'x') }}", {"a": ["{% if ansible_facts [ 'fqdn' ] %}y{% endif %}"]}):
        assert fact_names.ungathered_fact(template) == "fqdn", template
    # Gathered facts, names no fact collector sets (a role's getent results) and text that is not a
    # template are fine.
    for fine in ("{{ ansible_facts['hostname'] }}", "{{ ansible_facts.default_ipv4.address }}",
                 "{{ ansible_facts['getent_passwd'] }}", "ansible_facts['fqdn']"):
        assert fact_names.ungathered_fact(fine) is None, fine


def test_the_problem_names_the_fact_and_what_the_run_has():
    problem, fix = fact_names.problem({"motd": "{{ ansible_facts['fqdn'] }}"})
    assert "ansible_facts['fqdn'], which the run does not gather" in problem and "hostname" in problem
    assert "inventory_hostname" in fix
    assert fact_names.problem("{{ ansible_hostname }}")[1] == "write ansible_facts['hostname'] instead"
    assert fact_names.problem("{{ inventory_hostname }}") is None
