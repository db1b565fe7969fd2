"""bootstrap.py bundle: what goes in, what stays out, the same bytes for the same inputs, and a
bundle that Ansible can use from where it is unpacked with nothing of the checkout."""

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from lifecycle import collection  # noqa: E402
from workstation import bundle as wb  # noqa: E402

ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
HAS_POSIX = (wb.COLLECTIONS_DIR / "ansible" / "posix").is_dir()


@pytest.fixture
def wheels(tmp_path):
    """A small stand-in for .cache/wheels."""
    folder = tmp_path / "wheels"
    folder.mkdir()
    for name in ("ansible_core-2.17.14-py3-none-any.whl", "ansible_core-2.19.14-py3-none-any.whl"):
        (folder / name).write_bytes(b"not really a wheel " + name.encode())
    (folder / ".stamp-x").touch()
    return folder


@pytest.fixture
def source(tmp_path):
    """A copy of the checkout whose playbook also uses ansible.posix (the real roles use no collection)."""
    src = tmp_path / "src"
    src.mkdir()
    for entry in wb.source_paths(REPO):
        (shutil.copytree if (REPO / entry).is_dir() else shutil.copy2)(REPO / entry, src / entry)
    with open(src / "playbooks" / "site.yml", "a") as f:
        f.write("\n- name: Mounts\n  hosts: slurm_compute\n  tasks:\n"
                "    - name: Mount a file system\n      ansible.posix.mount:\n"
                "        path: /fsx\n        src: fs:/x\n        fstype: lustre\n        state: mounted\n")
    return src


def unpack(tarball, where):
    with tarfile.open(tarball) as tar:
        tar.extractall(where, filter="data")
    return where


def syntax_check(bundle_dir, home):
    """ansible-playbook --syntax-check from the unpacked bundle, with only its ansible.cfg and collections,
    and the bundle itself as hyperpod.slurm, linked as bootstrap.py links it."""
    linked = collection.link(bundle_dir, home / "linked")
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "ANSIBLE_CONFIG": str(bundle_dir / "ansible.cfg"),
           "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
           "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join([str(linked), str(bundle_dir / "collections")])}
    return subprocess.run([str(ANSIBLE_PLAYBOOK), "--syntax-check", "playbooks/site.yml"], cwd=bundle_dir, env=env,
                          capture_output=True, text=True)


def test_contents(tmp_path, wheels):
    built, path = wb.build(tmp_path / "out", wheels_dir=wheels)
    names = {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()}
    for wanted in ("on_create.sh", "bootstrap.py", "ansible.cfg", "MANIFEST.json", "playbooks/site.yml",
                   "plugins/inventory/hyperpod.py", "group_vars/all.yml", "roles/slurm_common/tasks/main.yml",
                   "wheels/ansible_core-2.17.14-py3-none-any.whl", "provisioning_parameters.json",
                   "requirements/node-lock/py3.10-ansible-core-2.17.14.txt"):
        assert wanted in names
    for name in names:
        top = name.split("/")[0] if not name.startswith("requirements/node-lock/") else "the locks on_create.sh reads"
        assert top not in ("tests", "molecule", "tools", "workstation", "examples", "requirements", ".cache"), name
        assert "__pycache__" not in name and not name.endswith(".pyc") and ".stamp" not in name, name
    assert built.collections == ["ansible.posix"]  # the fsx role's mount module; else ansible.builtin only
    assert os.access(path / "on_create.sh", os.X_OK) and not os.access(path / "ansible.cfg", os.X_OK)


def test_manifest_lists_every_file_with_its_sha256(tmp_path, wheels):
    built, path = wb.build(tmp_path / "out", wheels_dir=wheels)
    manifest = json.loads((path / "MANIFEST.json").read_text())
    on_disk = {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()} - {"MANIFEST.json"}
    assert set(manifest["files"]) == on_disk
    assert all(wb.sha256_file(path / name) == digest for name, digest in manifest["files"].items())
    assert manifest["content_hash"] == wb.make_manifest({n: path / n for n in on_disk})["content_hash"]


def test_same_inputs_same_bytes_and_a_change_a_new_hash(tmp_path, source, wheels):
    first, a = wb.build(tmp_path / "a-{hash}.tar.gz", source=source, wheels_dir=wheels)
    second, b = wb.build(tmp_path / "b-{hash}.tar.gz", source=source, wheels_dir=wheels)
    assert a.name == f"a-{first.short_hash}.tar.gz" and len(first.short_hash) == 12
    assert first.content_hash == second.content_hash
    assert a.read_bytes() == b.read_bytes()
    os.utime(source / "bootstrap.py", (0, 0))  # times do not count, content does
    assert wb.collect(source, wheels_dir=wheels).content_hash == first.content_hash
    with open(source / "group_vars" / "all.yml", "a") as f:
        f.write("slurm_common_wait_timeout: 60\n")
    assert wb.collect(source, wheels_dir=wheels).content_hash != first.content_hash


def test_tarball_entries_are_normalised(tmp_path, wheels):
    _, path = wb.build(tmp_path / "b.tar.gz", wheels_dir=wheels)
    with tarfile.open(path) as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == sorted(m.name for m in members)
    assert {(m.uid, m.gid, m.mtime) for m in members} == {(0, 0, wb.FIXED_MTIME)}
    assert {m.mode for m in members} <= {0o644, 0o755}


@pytest.mark.skipif(not HAS_POSIX, reason="needs .collections (tools/fetch_collections.py)")
def test_only_the_collections_used_go_in_and_ansible_finds_them_there(tmp_path, source):
    built, path = wb.build(tmp_path / "b.tar.gz", source=source, wheels_dir=None)
    assert built.collections == ["ansible.posix"]
    bundle_dir = unpack(path, tmp_path / "unpacked")
    assert (bundle_dir / "collections/ansible_collections/ansible/posix/plugins/modules/mount.py").is_file()
    assert not (bundle_dir / "collections/ansible_collections/community").exists()
    result = syntax_check(bundle_dir, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr

    # The control: the same bundle without its collections fails, so the check above used them.
    shutil.rmtree(bundle_dir / "collections")
    result = syntax_check(bundle_dir, tmp_path)
    assert result.returncode != 0 and "ansible.posix.mount" in result.stdout + result.stderr


def test_the_real_bundle_passes_syntax_check_unpacked(tmp_path):
    _, path = wb.build(tmp_path / "b.tar.gz", wheels_dir=None)
    result = syntax_check(unpack(path, tmp_path / "unpacked"), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_folder_output_refuses_a_folder_that_is_not_a_bundle(tmp_path):
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "notes.txt").write_text("keep me")
    with pytest.raises(wb.BundleError, match="is not a bundle folder"):
        wb.build(tmp_path / "precious", wheels_dir=None)
    assert (tmp_path / "precious" / "notes.txt").read_text() == "keep me"


def test_command_line(tmp_path):
    bootstrap = [sys.executable, str(REPO / "bootstrap.py")]
    listed = subprocess.run(bootstrap + ["bundle", "--list"], capture_output=True, text=True, check=True).stdout
    assert listed.split() == list(wb.BUNDLE_PATHS) + ["provisioning_parameters.json"]
    result = subprocess.run(bootstrap + ["bundle", str(tmp_path / "b-{hash}.tar.gz"), "--no-wheels"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    tarball = next(tmp_path.glob("b-*.tar.gz"))
    assert result.stdout.startswith(f"bundle {tarball}: ")
    assert f"content hash {tarball.name[2:14]}" in result.stdout and "no wheels" in result.stdout


def test_workstation_commands_say_where_they_run_from_a_bundle(tmp_path):
    """Nodes get no workstation/ folder; bootstrap.py says so in one line instead of a traceback."""
    _, path = wb.build(tmp_path / "b", wheels_dir=None)
    result = subprocess.run([sys.executable, str(path / "bootstrap.py"), "bundle", str(tmp_path / "again")],
                            capture_output=True, text=True)
    assert (result.returncode, result.stderr) == (2, "bootstrap.py bundle: runs on a workstation, from a checkout of "
                                                     "the repository (this copy has no workstation/ folder)\n")
