"""hyperpod.slurm.getent and hyperpod.slurm.slurp (plugins/action/, plugins/plugin_utils/reads.py):
the same result as ansible.builtin.getent and ansible.builtin.slurp, from one shell read without a
module run where they can, the module otherwise, on both ansible-cores."""

import json
import os
import subprocess

from ansible_collections.hyperpod.slurm.plugins.plugin_utils import reads
from conftest import REPO


def cases(tmp_path):
    """(action's short name, arguments, answered without a module)"""
    (tmp_path / "data.bin").write_bytes(bytes(range(256)) * 3)
    (tmp_path / "empty").write_bytes(b"")
    return [
        ("getent", {"database": "passwd"}, True),
        ("getent", {"database": "group"}, True),
        ("getent", {"database": "passwd", "key": "root"}, False),
        ("slurp", {"src": str(tmp_path / "data.bin")}, True),
        ("slurp", {"src": str(tmp_path / "empty")}, True),
        ("slurp", {"src": str(tmp_path / "missing")}, False),  # the module's error
        ("slurp", {"path": str(tmp_path / "data.bin")}, False),
    ]


def test_the_builtins_results_without_their_module_runs(ansible_bin, repo_collections, tmp_path):
    tasks = []
    for index, (name, args, _) in enumerate(cases(tmp_path)):
        for action in (f"ansible.builtin.{name}", f"hyperpod.slurm.{name}"):
            tasks.append(f"""
    - name: {action} {index}
      {action}: {json.dumps(args)}
      register: result
      ignore_errors: true
    - name: Keep it
      ansible.builtin.set_fact:
        results: "{{{{ results + [result] }}}}"
""")
    play, out, remote = tmp_path / "play.yml", tmp_path / "out.json", tmp_path / "remote"
    play.write_text(f"""\
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    results: []
  tasks:{''.join(tasks)}
    - name: Write the results
      ansible.builtin.copy:
        content: "{{{{ results | to_json }}}}"
        dest: "{{{{ out }}}}"
        mode: "0600"
""")
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(repo_collections),
               ANSIBLE_NOCOLOR="1", ANSIBLE_KEEP_REMOTE_FILES="1", ANSIBLE_REMOTE_TMP=str(remote))
    done = subprocess.run([str(ansible_bin / "ansible-playbook"), "-i", "localhost,", str(play),
                           "-e", f"ansible_python_interpreter={ansible_bin / 'python'}", "-e", f"out={out}"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads(out.read_text())
    for index, (name, args, _) in enumerate(cases(tmp_path)):
        builtin, ours = results[2 * index], results[2 * index + 1]
        for key in ("ansible_facts", "content", "encoding", "source", "changed", "failed"):
            assert ours.get(key) == builtin.get(key), (name, args, key)
    assert results[1]["ansible_facts"]["getent_passwd"]["root"][1] == "0"
    kept = sorted(path.name for path in remote.rglob("AnsiballZ_*.py"))
    for name in ("getent", "slurp"):
        builtin_runs = sum(1 for case in cases(tmp_path) if case[0] == name)
        by_module = sum(1 for case in cases(tmp_path) if case[0] == name and not case[2])
        assert kept.count(f"AnsiballZ_{name}.py") == builtin_runs + by_module


def test_duplicate_names_become_a_list_as_the_module_makes_them():
    facts = reads.getent_facts("group", "a:x:1:\nb:x:2:u\na:x:3:\n")
    assert facts == {"getent_group": {"a": [["x", "1", ""], ["x", "3", ""]], "b": ["x", "2", "u"]}}
    assert reads.getent_command({"database": "hosts"}) is None
    assert reads.getent_command({"database": "passwd; id"}) is None
    assert reads.slurp_command({"src": "relative"}) is None
    assert reads.slurp_command({"src": "/x'; id; '"}) == "[ -f '/x'\"'\"'; id; '\"'\"'' ] && base64 -w 0 < '/x'\"'\"'; id; '\"'\"''"
