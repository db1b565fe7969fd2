"""The observability role's input checks, which run before it installs anything: here on this
machine, with values that must stop the role at its first task."""

PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: hyperpod.slurm.observability
      vars:
        observability_enabled: true
        observability_amp_remote_write_url: https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1/api/v1/remote_write
        observability_amp_region: ""
"""


def test_remote_write_without_a_region_stops_before_any_change(tmp_path, local_playbook):
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    result = local_playbook("play.yml", cwd=tmp_path)
    assert result.returncode == 2, result.stdout[-3000:]
    out = " ".join(result.stdout.split())
    assert ("observability: observability_amp_remote_write_url is set but observability_amp_region is empty; "
            "set the workspace's region (e.g. us-west-2) for SigV4 signing.") in out
    assert "failed=1" in out and "Install node exporter" not in out  # stopped before any change
