"""hyperpod.slurm.write_files (plugins/modules/write_files.py), run by ansible-playbook on this host:
files written with their mode, a second run changes nothing, drift (content, mode) is repaired, check
mode changes nothing, and a missing folder stops the run before any file is written."""

import json
import os

PLAY = """\
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Write the files
      hyperpod.slurm.write_files:
        files:
          - dest: {a}
            content: "{{{{ lookup('ansible.builtin.file', '{src}', rstrip=false) }}}}"
            mode: "0755"
          - dest: {b}
            content: "plain text\\n"
            mode: "0640"
      register: result
    - name: Keep the result
      ansible.builtin.copy:
        content: "{{{{ result | to_json }}}}"
        dest: {out}
        mode: "0600"
      check_mode: false
"""


def run(local_playbook, tmp_path, *args, a=None):
    src = tmp_path / "source.py"
    src.write_text("#!/usr/bin/python3\nprint('{{ not a template }}')\n\n")
    a = a or tmp_path / "out" / "a.py"
    play = tmp_path / "play.yml"
    out = tmp_path / "result.json"
    if out.exists():
        out.unlink()
    play.write_text(PLAY.format(a=a, b=tmp_path / "out" / "b.txt", src=src, out=out))
    done = local_playbook(play, *args, cwd=tmp_path)
    return done, json.loads(out.read_text()) if out.exists() else None


def test_writes_then_changes_nothing_then_repairs(local_playbook, tmp_path):
    (tmp_path / "out").mkdir()
    done, result = run(local_playbook, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    a, b = tmp_path / "out" / "a.py", tmp_path / "out" / "b.txt"
    assert a.read_text() == "#!/usr/bin/python3\nprint('{{ not a template }}')\n\n"  # newlines kept, not templated
    assert b.read_text() == "plain text\n"
    assert (a.stat().st_mode & 0o777, b.stat().st_mode & 0o777) == (0o755, 0o640)
    assert result["changed"] and result["changed_files"] == [str(a), str(b)]

    done, result = run(local_playbook, tmp_path)
    assert done.returncode == 0 and not result["changed"] and result["changed_files"] == []

    a.write_text("drifted\n")
    os.chmod(b, 0o666)
    done, result = run(local_playbook, tmp_path, "--check")
    assert done.returncode == 0 and result["changed_files"] == [str(a), str(b)]
    assert a.read_text() == "drifted\n" and b.stat().st_mode & 0o777 == 0o666  # check mode: untouched

    done, result = run(local_playbook, tmp_path)
    assert result["changed_files"] == [str(a), str(b)]
    assert a.read_text().startswith("#!/usr/bin/python3") and b.stat().st_mode & 0o777 == 0o640
    assert not [p for p in os.listdir(tmp_path / "out") if p.startswith(".")]  # no temporary file left


def test_missing_folder_fails_before_writing_anything(local_playbook, tmp_path):
    (tmp_path / "out").mkdir()
    done, _ = run(local_playbook, tmp_path, a=tmp_path / "nowhere" / "a.py")
    assert done.returncode != 0
    assert "the folder of %s does not exist" % (tmp_path / "nowhere" / "a.py") in done.stdout
    assert not (tmp_path / "out" / "b.txt").exists()
