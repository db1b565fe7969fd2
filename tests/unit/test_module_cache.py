"""Built modules kept between runs: the folder bootstrap.py names (lifecycle/module_cache.py) and the
callback hyperpod.slurm.module_cache that points ansible-core's AnsiballZ cache at it, on the oldest
and the newest ansible-core."""

import json
import os
import subprocess

import pytest
from conftest import REPO

from lifecycle import manifest, module_cache

PLAY = """
- name: Use two modules
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Ping
      ansible.builtin.ping:
    - name: Stat
      ansible.builtin.stat:
        path: /
"""


def bundle_with(tmp_path, content_hash):
    bundle = tmp_path / "bundle"
    bundle.mkdir(exist_ok=True)
    (bundle / manifest.MANIFEST).write_text(json.dumps({"files": {}, "content_hash": content_hash}))
    return bundle


def test_one_folder_per_bundle_and_ansible_core(tmp_path):
    private = tmp_path / "private"
    private.mkdir()
    first = module_cache.folder(bundle_with(tmp_path, "a" * 64), private, "2.19.4", "/venv/ansible")
    assert first.is_dir() and first.parent == private / "modules"
    assert (first.stat().st_mode & 0o777, first.parent.stat().st_mode & 0o777) == (0o700, 0o700)
    (first / "ansible.modules.ping-ZIP_DEFLATED").write_text("built")
    assert module_cache.folder(bundle_with(tmp_path, "a" * 64), private, "2.19.4", "/venv/ansible") == first
    assert (first / "ansible.modules.ping-ZIP_DEFLATED").is_file()  # the same code: kept

    for changed in (("b" * 64, "2.19.4", "/venv/ansible"), ("a" * 64, "2.17.14", "/venv/ansible"),
                    ("a" * 64, "2.19.4", "/other/ansible")):
        other = module_cache.folder(bundle_with(tmp_path, changed[0]), private, *changed[1:])
        assert other != first and other.is_dir()
        assert list((private / "modules").iterdir()) == [other]  # the folder of the code before is gone
        first = other


def test_an_empty_file_is_removed_before_a_run(tmp_path):
    """What a crash leaves of a zip not yet written out; a lock file is empty by nature."""
    bundle = bundle_with(tmp_path, "a" * 64)
    first = module_cache.folder(bundle, tmp_path, "2.19.4", "/venv/ansible")
    for name, content in (("ansible.modules.ping-ZIP_DEFLATED", ""), ("ansible.modules.ping-ZIP_DEFLATED.lock", ""),
                          ("ansible.modules.stat-ZIP_DEFLATED", "built")):
        (first / name).write_text(content)
    assert module_cache.folder(bundle, tmp_path, "2.19.4", "/venv/ansible") == first
    assert sorted(p.name for p in first.iterdir()) == ["ansible.modules.ping-ZIP_DEFLATED.lock",
                                                       "ansible.modules.stat-ZIP_DEFLATED"]
    module_cache.forget(tmp_path)
    assert not (tmp_path / "modules").exists()
    module_cache.forget(tmp_path)  # nothing to forget: no error


@pytest.mark.parametrize("manifest_text", [None, "not json", json.dumps({"files": {}}),
                                           json.dumps({"files": {}, "content_hash": 7})])
def test_no_folder_without_a_manifests_content_hash(tmp_path, manifest_text):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    if manifest_text is not None:
        (bundle / manifest.MANIFEST).write_text(manifest_text)
    assert module_cache.folder(bundle, tmp_path, "2.19.4", "/venv/ansible") is None
    assert not (tmp_path / "modules").exists()


@pytest.fixture
def play(ansible_bin, repo_collections, tmp_path):
    """play(folder) -> CompletedProcess: PLAY run by that ansible-core with the callback enabled."""
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAY)
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(repo_collections),
               ANSIBLE_CALLBACKS_ENABLED="hyperpod.slurm.module_cache", ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "local"), HYPERPOD_MODULE_CACHE=str(tmp_path / "modules"))

    def _play():
        return subprocess.run([str(ansible_bin / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                               "-e", f"ansible_python_interpreter={ansible_bin / 'python'}", str(playbook)],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    return _play


def built(folder):
    """{module file: mtime_ns} of the zips in folder (not their lock files)."""
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir() if not p.name.endswith(".lock")}


def test_a_rerun_reads_the_modules_the_run_before_built(play, tmp_path):
    folder = tmp_path / "modules"
    folder.mkdir(mode=0o700)
    first = play()
    assert first.returncode == 0, first.stdout + first.stderr
    zips = built(folder)
    assert sorted(name.split("-")[0] for name in zips) == ["ansible.modules.ping", "ansible.modules.stat"]
    assert not list((tmp_path / "local").iterdir())  # the run's own folder is gone, the zips are not

    again = play()
    assert again.returncode == 0, again.stdout + again.stderr
    assert built(folder) == zips  # read, not built again
    assert "module_cache" not in again.stdout + again.stderr


@pytest.mark.parametrize("make, problem", [("writable by others", "is writable by other users"),
                                           ("a file", "is not a directory"), ("missing", "cannot be read (No such file or directory)")])
def test_an_unsafe_folder_is_not_used(play, tmp_path, make, problem):
    folder = tmp_path / "modules"
    if make == "writable by others":
        folder.mkdir()
        folder.chmod(0o777)
    elif make == "a file":
        folder.write_text("")
    done = play()
    assert done.returncode == 0, done.stdout + done.stderr  # the run builds its modules as usual
    output = " ".join((done.stdout + done.stderr).split())
    assert "hyperpod.slurm.module_cache:" in output and f"{problem}; modules are built for this run only" in output
    if make == "writable by others":
        assert not list(folder.iterdir())
