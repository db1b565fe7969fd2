"""A node checks its copy of the bundle against MANIFEST.json before anything of it runs: the first
file missing, changed or added where it matters stops it with one line; wheels are left to pip's
--require-hashes; a checkout (no MANIFEST.json) runs as it is."""

import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import EXAMPLES, REPO
from lifecycle import manifest
from workstation import bundle as wb


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A bundle folder as `bootstrap.py bundle` writes it, with one (stand-in) wheel."""
    work = tmp_path_factory.mktemp("manifest")
    wheels = work / "wheels-src"
    wheels.mkdir()
    (wheels / "stand_in-1.0-py3-none-any.whl").write_bytes(b"not really a wheel")
    _, path = wb.build(work / "bundle", wheels_dir=wheels)
    return path


@pytest.fixture
def bundle(built, tmp_path):
    copy = tmp_path / "bundle"
    shutil.copytree(built, copy)
    return copy


def mismatch(bundle):
    with pytest.raises(manifest.Mismatch) as caught:
        manifest.check(bundle)
    return str(caught.value)


def test_the_bundle_as_built_passes(bundle):
    manifest.check(bundle)
    (bundle / "plugins" / "plugin_utils" / "__pycache__").mkdir(exist_ok=True)
    (bundle / "plugins" / "plugin_utils" / "__pycache__" / "cluster.cpython-311.pyc").write_bytes(b"python's")
    (bundle / "README.txt").write_text("a note someone put into the S3 prefix")
    manifest.check(bundle)


def test_a_changed_file(bundle):
    (bundle / "roles" / "slurm_common" / "tasks" / "main.yml").write_text("---\n- ansible.builtin.command: id\n")
    assert mismatch(bundle) == "roles/slurm_common/tasks/main.yml: was changed since the bundle was built"


def test_a_missing_file(bundle):
    (bundle / "lifecycle" / "settings.py").unlink()
    assert mismatch(bundle) == "lifecycle/settings.py: is missing"


@pytest.mark.parametrize("extra", ["roles/fsx/tasks/extra.yml", "plugins/filter/more.py", "playbooks/more.yml",
                                   "collections/ansible_collections/ansible/posix/plugins/modules/more.py"])
def test_an_added_file_where_it_changes_the_run(bundle, extra):
    (bundle / extra).parent.mkdir(parents=True, exist_ok=True)
    (bundle / extra).write_text("{}\n")
    assert mismatch(bundle) == f"{extra}: is not in the bundle as built (added since)"


def test_the_clusters_own_inputs_and_settings_are_checked_by_value_not_by_hash(bundle):
    """An operator (and tests/harness) lays a cluster's files over a built bundle; the cluster model
    and lifecycle/settings.py check every value of them on every run."""
    (bundle / "provisioning_parameters.json").unlink()
    (bundle / "node_roles.json").write_text("{}\n")
    (bundle / "shared_users.txt").write_text("alice,2001\n")
    (bundle / "group_vars" / "all.yml").write_text("observability_enabled: true\n")
    (bundle / "host_vars").mkdir()
    (bundle / "host_vars" / "login-group-1.yml").write_text("observability_enabled: true\n")
    manifest.check(bundle)


def test_wheels_are_left_to_pip(bundle):
    """on_create.sh installs them with --require-hashes from the hashed lock files."""
    wheel = next((bundle / "wheels").iterdir())
    wheel.write_bytes(b"changed")
    (bundle / "wheels" / "other-2.0-py3-none-any.whl").write_bytes(b"added")
    manifest.check(bundle)
    (bundle / "requirements" / "node-lock" / "py3.10-ansible-core-2.17.14.txt").write_text("ansible-core\n")
    assert mismatch(bundle) == ("requirements/node-lock/py3.10-ansible-core-2.17.14.txt: was changed since the "
                                "bundle was built")


def test_a_damaged_manifest(bundle):
    data = json.loads((bundle / "MANIFEST.json").read_text())
    data["files"]["roles/fsx/tasks/main.yml"] = "0" * 64  # edited to match a changed file, hash not
    (bundle / "MANIFEST.json").write_text(json.dumps(data))
    assert mismatch(bundle) == "MANIFEST.json: is damaged (not the manifest bootstrap.py bundle writes)"


def test_a_checkout_has_no_manifest_and_passes():
    manifest.check(REPO)


def test_bootstrap_stops_before_anything_runs(bundle, tmp_path):
    def inventory():
        return subprocess.run([sys.executable, str(bundle / "bootstrap.py"), "inventory", "--resource-config",
                               str(EXAMPLES / "resource_config.json")], cwd=tmp_path, capture_output=True, text=True,
                              timeout=120, check=False)

    assert inventory().returncode == 0
    (bundle / "plugins" / "inventory" / "hyperpod.py").write_text("raise SystemExit('altered')\n")
    done = inventory()
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (f"{bundle}/plugins/inventory/hyperpod.py: was changed since the bundle was built; this is "
                           "not the bundle that was built: build it again (bootstrap.py bundle), upload it, and point "
                           "the cluster at it\n")


def test_on_create_stops_before_pip_when_the_lock_was_changed(bundle, tmp_path):
    """The lock file decides what pip installs: on_create.sh checks the manifest before it."""
    lock = next((bundle / "requirements" / "node-lock").glob("*.txt"))
    lock.write_text(lock.read_text() + "\n# altered\n")
    (tmp_path / "resource_config.json").write_text("{}")
    env = {"PATH": "/usr/bin:/bin", "SAGEMAKER_RESOURCE_CONFIG_PATH": str(tmp_path / "resource_config.json"),
           "HYPERPOD_LOG_DIR": str(tmp_path / "log"), "HYPERPOD_VENV": str(tmp_path / "venv")}
    done = subprocess.run(["bash", str(bundle / "on_create.sh")], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert f"{lock}: was changed since the bundle was built" in done.stdout
    assert "the bundle differs from its MANIFEST.json" in done.stdout
    assert not (tmp_path / "venv").exists()


def test_bootstrap_checks_again_unless_on_create_checked_this_very_bundle(bundle, tmp_path):
    """on_create.sh sets HYPERPOD_BUNDLE_CHECKED to the bundle it checked; for any other folder
    bootstrap.py checks for itself."""
    (bundle / "plugins" / "inventory" / "hyperpod.py").write_text("raise SystemExit('altered')\n")

    def inventory(checked):
        env = dict(os.environ, **{manifest.CHECKED_VARIABLE: str(checked)})
        return subprocess.run([sys.executable, str(bundle / "bootstrap.py"), "inventory", "--resource-config",
                               str(EXAMPLES / "resource_config.json")], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=120, check=False)

    assert inventory(tmp_path).returncode == 2  # another folder: checked, refused
    assert "was changed since the bundle was built" not in inventory(bundle.resolve()).stderr
