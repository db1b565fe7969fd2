"""hyperpod.slurm.write_files (plugins/modules/write_files.py), run by ansible-playbook on this host
with this venv's ansible-core and with 2.17 (the oldest the bundle installs): files written with their
mode, the bytes the template and copy modules write, a second run changes nothing, drift (content,
mode) is repaired, check mode changes nothing, a missing folder or content that is not text stops the
run before any file is written."""

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from ansible_collections.hyperpod.slurm.plugins.plugin_utils import file_state

REPO = Path(__file__).resolve().parents[2]

TEMPLATE = "# a comment {{ x }}\n{% if true %}\n  inner\n{% endif %}\n  {% for i in [1, 2] %}\nitem{{ i }}\n  {% endfor %}\nlast\n\n"
SOURCE = "#!/usr/bin/python3\nprint('{{ not a template }}')\n\n"

PLAY = """\
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    x: 5
  tasks:
    - name: Write the files
      hyperpod.slurm.write_files:
        files:
          - dest: {a}
            content: "{{{{ lookup('ansible.builtin.file', '{src}', rstrip=false) }}}}"
            mode: "0755"
          - dest: {b}
            content: "{{{{ lookup('ansible.builtin.template', 't.j2') }}}}"
            mode: "0640"
      register: result
    - name: Keep the result
      ansible.builtin.copy:
        content: "{{{{ result | to_json }}}}"
        dest: {out}
        mode: "0600"
      check_mode: false
    - name: The template module's bytes, for comparison
      ansible.builtin.template:
        src: t.j2
        dest: {b}.module
        mode: "0600"
      check_mode: false
"""


@pytest.fixture
def playbook(ansible_bin, repo_collections):
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_ROLES_PATH=str(REPO / "roles"),
               ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([str(repo_collections), str(REPO / ".collections")]),
               ANSIBLE_NOCOLOR="1")

    def _run(play, *args, cwd, **more_env):
        return subprocess.run([str(ansible_bin / "ansible-playbook"), "-i", "localhost,", str(play),
                               "-e", "ansible_python_interpreter=" + str(ansible_bin / "python"), *args],
                              cwd=cwd, env={**env, **more_env}, capture_output=True, text=True)
    return _run


def run(playbook, tmp_path, *args, a=None, play=PLAY):
    src = tmp_path / "source.py"
    src.write_text(SOURCE)
    (tmp_path / "templates").mkdir(exist_ok=True)
    (tmp_path / "templates" / "t.j2").write_text(TEMPLATE)
    a = a or tmp_path / "out" / "a.py"
    path = tmp_path / "play.yml"
    out = tmp_path / "result.json"
    if out.exists():
        out.unlink()
    path.write_text(play.format(a=a, b=tmp_path / "out" / "b.txt", src=src, out=out))
    done = playbook(path, *args, cwd=tmp_path)
    return done, json.loads(out.read_text()) if out.exists() else None


def test_writes_then_changes_nothing_then_repairs(playbook, tmp_path):
    (tmp_path / "out").mkdir()
    done, result = run(playbook, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    a, b = tmp_path / "out" / "a.py", tmp_path / "out" / "b.txt"
    assert a.read_text() == SOURCE  # newlines kept, not templated
    assert b.read_bytes() == (tmp_path / "out" / "b.txt.module").read_bytes()  # the template module's bytes
    assert (a.stat().st_mode & 0o777, b.stat().st_mode & 0o777) == (0o755, 0o640)
    assert result["changed"] and result["changed_files"] == [str(a), str(b)]

    done, result = run(playbook, tmp_path)
    assert done.returncode == 0 and not result["changed"] and result["changed_files"] == []

    a.write_text("drifted\n")
    os.chmod(b, 0o666)
    done, result = run(playbook, tmp_path, "--check")
    assert done.returncode == 0 and result["changed_files"] == [str(a), str(b)]
    assert a.read_text() == "drifted\n" and b.stat().st_mode & 0o777 == 0o666  # check mode: untouched

    done, result = run(playbook, tmp_path)
    assert result["changed_files"] == [str(a), str(b)]
    assert a.read_text() == SOURCE and b.stat().st_mode & 0o777 == 0o640
    assert not [p for p in os.listdir(tmp_path / "out") if p.startswith(".")]  # no temporary file left


def test_missing_folder_fails_before_writing_anything(playbook, tmp_path):
    (tmp_path / "out").mkdir()
    done, _ = run(playbook, tmp_path, a=tmp_path / "nowhere" / "a.py")
    assert done.returncode != 0
    assert "the folder of %s does not exist" % (tmp_path / "nowhere" / "a.py") in " ".join(done.stdout.split())
    assert not (tmp_path / "out" / "b.txt").exists()


def test_content_that_is_not_text_is_refused(playbook, tmp_path):
    (tmp_path / "out").mkdir()
    play = PLAY.replace("""content: "{{{{ lookup('ansible.builtin.template', 't.j2') }}}}\"""", "content: {{x: 1}}")
    done, _ = run(playbook, tmp_path, play=play)
    assert done.returncode != 0 and "content is a dict, not text" in " ".join(done.stdout.split()), done.stdout
    assert not (tmp_path / "out" / "a.py").exists()


PLAY_ALL = """\
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Folders, files, links and removals in one run
      hyperpod.slurm.write_files:
        folders:
          - {{path: {root}/new/deeper, mode: "0750"}}
        files:
          - dest: {root}/new/deeper/settings.json
            json: {{b: [1, 2], a: "x"}}
            mode: "0640"
          - dest: {root}/new/seed.txt
            content: "first\\n"
            force: false
            mode: "0644"
        links:
          - {{dest: {root}/new/second-name, src: deeper/settings.json}}
        absent: [{root}/old.gate, {root}/never-there]
      register: result
    - name: Keep the result
      ansible.builtin.copy:
        content: "{{{{ result | to_json }}}}"
        dest: {root}/result.json
        mode: "0600"
      check_mode: false
    - name: to_nice_json's bytes, for comparison
      ansible.builtin.copy:
        content: "{{{{ {{'b': [1, 2], 'a': 'x'}} | to_nice_json }}}}\\n"
        dest: {root}/expected.json
        mode: "0600"
      check_mode: false
"""


def run_all(playbook, tmp_path, *args):
    """(root, the changed files); each run's modules are kept in tmp_path/remote/<n> (module_runs)."""
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    play = tmp_path / "play.yml"
    play.write_text(PLAY_ALL.format(root=root))
    remote = tmp_path / "remote" / str(len(list((tmp_path / "remote").glob("*"))) if (tmp_path / "remote").is_dir() else 0)
    done = playbook(play, *args, cwd=tmp_path, ANSIBLE_KEEP_REMOTE_FILES="1", ANSIBLE_REMOTE_TMP=str(remote))
    assert done.returncode == 0, done.stdout + done.stderr
    return root, json.loads((root / "result.json").read_text())["changed_files"]


def module_runs(tmp_path):
    """How many times the last run_all ran the write_files module (its action reads first)."""
    last = max((tmp_path / "remote").iterdir(), key=lambda p: int(p.name))
    return len(list(last.rglob("AnsiballZ_write_files.py")))


def test_folders_links_json_and_removals(playbook, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "old.gate").write_text("x")
    new = root / "new"

    _, changed = run_all(playbook, tmp_path, "--check")
    assert changed == [str(new / "deeper"), str(new / "deeper" / "settings.json"), str(new / "seed.txt"),
                       str(new / "second-name"), str(root / "old.gate")]
    assert not new.exists() and (root / "old.gate").exists()  # check mode: nothing done

    _, changed = run_all(playbook, tmp_path)
    assert len(changed) == 5
    assert (new / "deeper").stat().st_mode & 0o777 == 0o750
    assert (new / "deeper" / "settings.json").read_bytes() == (root / "expected.json").read_bytes()
    assert os.readlink(new / "second-name") == "deeper/settings.json"
    assert not (root / "old.gate").exists()

    (new / "seed.txt").write_text("the cluster's own\n")  # force false: never overwritten
    _, changed = run_all(playbook, tmp_path)
    assert changed == [] and (new / "seed.txt").read_text() == "the cluster's own\n"
    assert module_runs(tmp_path) == 0  # one shell read found everything as asked

    os.chown(new / "deeper" / "settings.json", 65534, 0)  # another owner is drift too
    _, changed = run_all(playbook, tmp_path)
    assert changed == [str(new / "deeper" / "settings.json")] and module_runs(tmp_path) == 1
    assert (new / "deeper" / "settings.json").stat().st_uid == 0

    os.unlink(new / "second-name")
    os.symlink("elsewhere", new / "second-name")  # a link moved away is pointed back
    os.chmod(new / "deeper", 0o777)
    _, changed = run_all(playbook, tmp_path)
    assert changed == [str(new / "deeper"), str(new / "second-name")]
    assert os.readlink(new / "second-name") == "deeper/settings.json"


def test_a_folder_in_absent_or_a_file_in_links_is_refused(playbook, tmp_path):
    root = tmp_path / "root"
    (root / "new").mkdir(parents=True)
    (root / "new" / "second-name").write_text("a file, not a link")
    play = tmp_path / "play.yml"
    play.write_text(PLAY_ALL.format(root=root))
    done = playbook(play, cwd=tmp_path)
    out = " ".join(done.stdout.split())
    assert done.returncode != 0 and "second-name exists and is not a link" in out, out
    assert not (root / "new" / "deeper").exists()  # refused before anything was made

    (root / "new" / "second-name").unlink()
    (root / "old.gate").mkdir()
    done = playbook(play, cwd=tmp_path)
    out = " ".join(done.stdout.split())
    assert done.returncode != 0 and "old.gate is a folder" in out, out


def test_the_read_settles_only_what_it_can_tell():
    """plugins/plugin_utils/file_state.py: every doubt is the module's."""
    digest = hashlib.sha256(b"x\n").hexdigest()
    args = {"files": [{"dest": "/etc/a", "content": "x\n", "mode": "0644"}], "absent": ["/etc/b"]}
    right = [["file", "644", "root", "root", "0", "0", digest], ["none"]]
    assert file_state.settled(args, right)
    assert file_state.settled({**args, "files": [{**args["files"][0], "owner": "0", "group": "root"}]}, right)
    assert not file_state.settled(args, [["file", "600"] + right[0][2:], ["none"]])  # mode
    assert not file_state.settled(args, [right[0][:6] + ["0" * 64], ["none"]])  # content
    assert not file_state.settled(args, [right[0], ["file", "644", "root", "root", "0", "0", digest]])  # not absent
    assert not file_state.settled({**args, "files": [{**args["files"][0], "mode": "rw"}]}, right)  # the module's error
    assert not file_state.settled({**args, "absent": ["relative"]}, right)
    assert not file_state.settled({**args, "files": [{**args["files"][0], "json": {}}]}, right)  # both: refused
    assert file_state.settled({"files": [{**args["files"][0], "force": "no", "content": "other"}]}, [right[0]])
    assert file_state.parse("file 644 root root 0 0 %s\nnone\n" % digest, 2) == right
    assert file_state.parse("none\n", 2) is None and file_state.parse("what\nnone\n", 2) is None
