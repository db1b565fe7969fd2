"""The collection hyperpod.slurm: built from the checkout, installed offline into a temporary
collections path, and used from there with this repository's roles/ out of reach.

The standalone Molecule scenario converges a cluster from the same build (tools/build-collection).
"""

import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "tasks").is_dir())
# In no play of site.yml: other roles include them for one step (roles/packages).
INCLUDED_ONLY = {"packages"}
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
# What a collection is made of; everything else in the repository is the bundle's or the tests'.
TOP_LEVEL = {"MANIFEST.json", "FILES.json", "README.md", "CHANGELOG.md", "docs", "meta", "playbooks", "plugins",
             "roles"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(tarball, collections path, env) of a fresh build; commands run outside the repository, so
    its ansible.cfg (roles_path = ./roles) does not apply."""
    out = tmp_path_factory.mktemp("collection")
    result = subprocess.run([str(ROOT / "tools" / "build-collection"), str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == str(out / "ansible_collections" / "hyperpod" / "slurm")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(out), ANSIBLE_ROLES_PATH=str(out / "no-roles-here"),
               ANSIBLE_NOCOLOR="1", PATH=str(BIN) + os.pathsep + os.environ["PATH"])
    env.pop("ANSIBLE_CONFIG", None)
    (tarball,) = out.glob("hyperpod-slurm-*.tar.gz")
    return tarball, out, env


def run(command, env, cwd):
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)


def test_the_tarball_holds_the_collection_and_nothing_else(installed):
    tarball = installed[0]
    assert tarball.name == "hyperpod-slurm-%s.tar.gz" % GALAXY["version"]
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
    assert {name.split("/")[0] for name in names} <= TOP_LEVEL
    for wanted in ["meta/runtime.yml", "playbooks/site.yml", "plugins/inventory/hyperpod.py",
                   "plugins/filter/hostlist.py", "plugins/test/apt.py", "plugins/lookup/accounting_secret.py", "docs/ordinary-clusters.md",
                   "plugins/plugin_utils/cluster.py", "plugins/plugin_utils/run_summary.py", "plugins/filter/cluster.py",
                   "plugins/callback/progress.py"]:
        assert wanted in names
    for role in ROLES:
        assert "roles/%s/tasks/main.yml" % role in names and "roles/%s/meta/argument_specs.yml" % role in names
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]


def test_ansible_doc_documents_every_role_and_plugin(installed, tmp_path):
    _, _, env = installed
    done = run([str(BIN / "ansible-doc"), "-t", "role", "--json"] + ["hyperpod.slurm.%s" % r for r in ROLES],
               env, tmp_path)
    assert done.returncode == 0, done.stderr
    docs = json.loads(done.stdout)
    for role in ROLES:
        specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
        shown = docs["hyperpod.slurm.%s" % role]["entry_points"]
        assert set(shown) == set(specs["argument_specs"])
        assert set(shown["main"]["options"]) == set(specs["argument_specs"]["main"]["options"])
    # Every plugin of the collection, found in its folders: a new one without documentation fails here.
    plugins = [(kind, path.stem) for kind in ("inventory", "lookup", "filter", "test", "callback", "modules")
               for path in sorted((ROOT / "plugins" / kind).glob("*.*"))
               if path.suffix in (".py", ".yml") and not (kind in ("filter", "test") and path.suffix == ".py")]
    assert ("filter", "slurm_conf_nodes") in plugins and ("filter", "mysql_string") in plugins and ("callback", "progress") in plugins
    # An action plugin is documented as the module of its name (ansible-doc -t module).
    actions = sorted(path.stem for path in (ROOT / "plugins" / "action").glob("*.py"))
    assert "command" in actions and all(("modules", name) in plugins for name in actions)
    for kind, name in plugins:
        kind = "module" if kind == "modules" else kind
        done = run([str(BIN / "ansible-doc"), "-t", kind, "hyperpod.slurm." + name], env, tmp_path)
        assert done.returncode == 0 and "hyperpod.slurm." + name in done.stdout, done.stderr


def test_the_site_playbook_resolves_its_roles_inside_the_collection(installed, tmp_path):
    """site.yml names its roles without the collection: from the collection's playbook, Ansible looks
    in the same collection first (roles, their dependencies in meta/main.yml, include_role)."""
    _, _, env = installed
    (tmp_path / "hosts.ini").write_text("[slurm_controller]\nhead1\n[slurm_compute]\nnode1\n[slurm_login]\nlogin1\n")
    done = run([str(BIN / "ansible-playbook"), "-i", "hosts.ini", "hyperpod.slurm.site", "--list-tasks"],
               env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    for role in set(ROLES) - INCLUDED_ONLY:
        assert "hyperpod.slurm.%s : " % role in done.stdout


@pytest.mark.parametrize("tag,roles", [("slurm", {"accounting", "slurm_common", "slurm_controller", "slurm_compute",
                                                  "slurm_login", "slurm_hooks"}),
                                       ("hooks", {"slurm_hooks"}),
                                       ("fsx", {"fsx", "shared_users", "cluster_access"}),
                                       ("users", {"fsx", "shared_users", "cluster_access"}),
                                       ("access", {"cluster_access"}),
                                       ("observability", {"observability"}),
                                       ("containers", {"enroot_pyxis"})])
def test_site_tags_pick_their_roles_and_every_role_still_checks_its_input(installed, tmp_path, tag, roles):
    _, _, env = installed
    (tmp_path / "hosts.ini").write_text("[slurm_controller]\nhead1\n[slurm_compute]\nnode1\n[slurm_login]\nlogin1\n")
    done = run([str(BIN / "ansible-playbook"), "-i", "hosts.ini", "hyperpod.slurm.site", "--list-tasks", "--tags", tag],
               env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    tasks = re.findall(r"^ +hyperpod\.slurm\.(\w+) : (.+?)\tTAGS", done.stdout, re.M)
    assert {role for role, name in tasks if not name.startswith("Validating arguments")} == roles
    assert {role for role, name in tasks if name.startswith("Validating arguments")} >= (
        set(ROLES) - {"slurm_common"} - INCLUDED_ONLY)
    if tag == "users":  # of fsx only its export: the mount points shared_users may move homes onto
        assert [name for role, name in tasks if role == "fsx" and not name.startswith("Validating")] == [
            "Export the mount points"]


def test_a_role_included_by_another_resolves_inside_the_collection(installed, tmp_path):
    """enroot_pyxis includes packages by its short name: Ansible finds it in the same collection (the
    roles path holds nothing here), and packages checks the input it gets."""
    _, _, env = installed
    (tmp_path / "play.yml").write_text(
        "- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.include_role: {name: hyperpod.slurm.enroot_pyxis, tasks_from: fetch}\n"
        "      vars:\n"
        "        __enroot_pyxis_artifacts: [{url: 'http://192.0.2.1/x.deb', sha256: ''}]\n"
        "        __enroot_pyxis_var: enroot_pyxis_enroot_debs\n")
    done = run([str(BIN / "ansible-playbook"), "-i", "localhost,", "play.yml"], env, tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "hyperpod.slurm.packages : Check that the files are pinned" in done.stdout
    assert "enroot_pyxis: enroot_pyxis_enroot_debs: 'http://192.0.2.1/x.deb' needs a url and the sha256" in " ".join(
        done.stdout.split())


def test_bad_values_are_refused_before_any_task(installed, tmp_path):
    _, _, env = installed
    (tmp_path / "play.yml").write_text(
        "- hosts: localhost\n  connection: local\n  gather_facts: false\n  roles:\n"
        "    - role: hyperpod.slurm.slurm_common\n"
        "      vars: {slurm_common_node_type: compute, slurm_common_mode: sometimes,\n"
        "             slurm_common_wait_timeout: soon}\n")
    done = run([str(BIN / "ansible-playbook"), "-i", "localhost,", "play.yml"], env, tmp_path)
    assert done.returncode != 0
    assert "Validating arguments against arg spec 'main'" in done.stdout
    assert "slurm_common_mode must be one of: auto, hyperpod, standalone, got: sometimes" in done.stdout
    assert "slurm_common_wait_timeout" in done.stdout and "unable to convert to int" in done.stdout
    assert re.search(r"localhost\s+: ok=0 .*failed=1", done.stdout), done.stdout


def test_requires_ansible_covers_every_core_on_create_installs():
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    supported = SpecifierSet(runtime["requires_ansible"])
    cores = re.findall(r"^\s*3\.[\d\[\]\-]+\) core=([\d.]+) ;;", (ROOT / "on_create.sh").read_text(), re.M)
    assert len(cores) == 3
    for core in cores:
        assert core in supported, "meta/runtime.yml requires_ansible leaves out %s, which on_create.sh installs" % core


def test_bootstrap_links_the_bundle_under_the_collections_name():
    match = re.search(r'^COLLECTION = \("(\w+)", "(\w+)"\)', (ROOT / "lifecycle" / "collection.py").read_text(), re.M)
    assert match and match.groups() == (GALAXY["namespace"], GALAXY["name"])


def test_every_other_collection_the_roles_use_is_a_declared_dependency(installed):
    tarball = installed[0]
    with tarfile.open(tarball) as tar:
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    used = set()
    for path in (ROOT / "roles").rglob("*.yml"):
        used |= set(re.findall(r"^\s*-?\s*([a-z_]+\.[a-z_]+)\.[a-z_]+:", path.read_text(), re.M))
    used -= {"ansible.builtin", "hyperpod.slurm"}
    assert used == {"ansible.posix"}  # a new one: add it to galaxy.yml's dependencies and to this line
    assert set(manifest["collection_info"]["dependencies"]) == used


def test_the_cluster_model_and_the_progress_callback_work_from_the_collection(installed, tmp_path):
    """plugins/plugin_utils goes into the tarball: the filters and the callback import it from there."""
    _, _, env = installed
    (tmp_path / "hosts.ini").write_text("[slurm_controller]\nhead1\n[slurm_compute]\nnode1\nnode2\n"
                                        "[partition_debug]\nnode2\n")
    (tmp_path / "play.yml").write_text(
        "- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n"
        "    - name: Read the partitions\n      ansible.builtin.debug:\n"
        "        msg: \"{{ (groups | hyperpod.slurm.cluster_nodes(hostvars) | hyperpod.slurm.slurm_partitions)[0] }}\"\n")
    env = dict(env, ANSIBLE_CALLBACKS_ENABLED="hyperpod.slurm.progress",
               HYPERPOD_PROGRESS_SUMMARY_DIR=str(tmp_path / "log"))
    done = run([str(BIN / "ansible-playbook"), "-i", "hosts.ini", "play.yml"], env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r'"name": "debug",\s+"nodes": \[\s+"node2"\s+\]', done.stdout), done.stdout
    assert re.search(r"^ +\d+\.\ds  - \| Read the partitions \.+ ok$", done.stdout, re.M), done.stdout
    assert json.loads((tmp_path / "log" / "summary-latest.json").read_text())["status"] == "successful"
