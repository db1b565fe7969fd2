"""hyperpod.slurm.stat_paths (plugins/modules/stat_paths.py): several paths looked at in one module
run, what each is (a file, a folder, a link and where it leads, nothing), in the order given; a
relative path is refused. Its action answers from one shell read, as the module would."""

import json
import os
import subprocess

from ansible_collections.hyperpod.slurm.plugins.modules import stat_paths
from ansible_collections.hyperpod.slurm.plugins.plugin_utils import path_state


PLAY = """\
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Look at the paths
      hyperpod.slurm.stat_paths:
        paths: {paths}
      register: result
    - name: Keep the result
      ansible.builtin.copy:
        content: "{{{{ result | to_json }}}}"
        dest: {out}
        mode: "0600"
"""


def look(local_playbook, tmp_path, paths):
    play, out = tmp_path / "play.yml", tmp_path / "result.json"
    play.write_text(PLAY.format(paths=json.dumps([str(p) for p in paths]), out=out))
    done = local_playbook(play, cwd=tmp_path)
    return done, json.loads(out.read_text()) if done.returncode == 0 else None


def test_files_folders_links_and_nothing(local_playbook, tmp_path):
    (tmp_path / "release").mkdir()
    (tmp_path / "key").write_text("k")
    os.symlink("release", tmp_path / "prefix")
    os.symlink("gone", tmp_path / "dangling")
    paths = [tmp_path / "missing", tmp_path / "prefix", tmp_path / "key", tmp_path / "release", tmp_path / "dangling"]

    done, result = look(local_playbook, tmp_path, paths)
    assert done.returncode == 0, done.stdout
    assert not result["changed"]
    assert result["existing"] == [str(tmp_path / "prefix"), str(tmp_path / "key"), str(tmp_path / "release")]
    assert result["stat"][str(tmp_path / "prefix")] == {
        "exists": True, "isdir": True, "islnk": True, "lnk_source": str(tmp_path / "release")}
    assert result["stat"][str(tmp_path / "key")] == {"exists": True, "isdir": False, "islnk": False, "lnk_source": None}
    assert result["stat"][str(tmp_path / "missing")]["exists"] is False
    assert result["stat"][str(tmp_path / "dangling")]["exists"] is False  # a link to nothing is not there
    assert result["stat"][str(tmp_path / "dangling")]["islnk"] is True


def test_a_relative_path_is_refused(local_playbook, tmp_path):
    done, _ = look(local_playbook, tmp_path, ["etc/munge/munge.key"])
    assert done.returncode != 0 and "stat_paths: etc/munge/munge.key not absolute" in done.stdout


def test_the_actions_shell_read_answers_as_the_module(tmp_path):
    """plugins/action/stat_paths.py answers from one shell read (plugins/plugin_utils/path_state.py),
    without a module run: the same answer as the module's describe() for every kind of path."""
    (tmp_path / "a folder").mkdir()
    (tmp_path / "file").write_text("x")
    os.symlink("a folder", tmp_path / "to folder")
    os.symlink(tmp_path / "to folder", tmp_path / "chain")
    os.symlink("gone/deeper", tmp_path / "dangling")
    os.symlink("../" + tmp_path.name + "/file", tmp_path / "relative up")
    paths = [str(tmp_path / name) for name in ("missing", "a folder", "file", "to folder", "chain", "dangling",
                                               "relative up")]
    read = subprocess.run(["sh", "-c", path_state.READ_SCRIPT, "sh", *paths], capture_output=True, text=True,
                          check=True)
    answer = path_state.result(paths, read.stdout)
    assert answer["stat"] == {path: stat_paths.describe(path) for path in paths}
    assert answer["existing"] == [p for p in paths if stat_paths.describe(p)["exists"]] and not answer["changed"]
    assert path_state.paths({"paths": ["relative"]}) is None and path_state.paths({"paths": []}) is None
    assert path_state.result(paths, "1 1 0 \n") is None  # a line short: the module's
