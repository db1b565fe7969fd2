"""hyperpod.slurm.getent and hyperpod.slurm.slurp (plugins/action/, plugins/plugin_utils/reads.py):
the same result as ansible.builtin.getent and ansible.builtin.slurp, from one shell read without a
module run where they can, the module otherwise, on both ansible-cores."""

from ansible_collections.hyperpod.slurm.plugins.plugin_utils import reads


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


def test_the_builtins_results_without_their_module_runs(run_tasks, tmp_path):
    done, results, kept = run_tasks([(f"{prefix}.{name}", args) for name, args, _ in cases(tmp_path)
                                     for prefix in ("ansible.builtin", "hyperpod.slurm")])
    assert done.returncode == 0, done.stdout + done.stderr
    for index, (name, args, _) in enumerate(cases(tmp_path)):
        builtin, ours = results[2 * index], results[2 * index + 1]
        for key in ("ansible_facts", "content", "encoding", "source", "changed", "failed"):
            assert ours.get(key) == builtin.get(key), (name, args, key)
    assert results[1]["ansible_facts"]["getent_passwd"]["root"][1] == "0"
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
