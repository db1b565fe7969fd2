"""Shared fixtures: the cluster model as everyone imports it (by its collection name), and input files."""

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
WHEELS = REPO / ".cache" / "wheels"
PY = "%d.%d" % sys.version_info[:2]
OLDEST_CORE = "2.17.14"


sys.path.insert(0, str(REPO))
from lifecycle import collection  # noqa: E402 - the checkout's root on the path first; now hyperpod.slurm
from ansible_collections.hyperpod.slurm.plugins.plugin_utils import cluster as _HP  # noqa: E402
_EXAMPLE = {
    "rc": json.loads((EXAMPLES / "resource_config.json").read_text()),
    "pp": json.loads((EXAMPLES / "provisioning_parameters.json").read_text()),
    "api_rc": json.loads((EXAMPLES / "api-mode" / "resource_config.json").read_text()),
}


@pytest.fixture
def fake_aws(monkeypatch):
    """AWS's APIs played in this process by moto, with stand-in credentials; no endpoint override
    of the environment (a moto server's, set for the scenarios) may send a call elsewhere."""
    from moto import mock_aws
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    for name in [name for name in os.environ if name.startswith("AWS_ENDPOINT_URL")]:
        monkeypatch.delenv(name)
    with mock_aws():
        yield


@pytest.fixture(scope="session")
def hp():
    return _HP


@pytest.fixture(scope="session")
def repo_collections(tmp_path_factory):
    """A collections path in which this checkout is the collection hyperpod.slurm (as bootstrap.py
    makes the bundle on a node), so the roles' hyperpod.slurm.* plugins resolve."""
    return collection.link(REPO, tmp_path_factory.mktemp("collections"))


@pytest.fixture(scope="session")
def local_playbook(repo_collections):
    """local_playbook(playbook, *args, cwd) -> CompletedProcess: ansible-playbook against localhost
    with this checkout's ansible.cfg and roles, the checkout as hyperpod.slurm, this venv's Python."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_ROLES_PATH=str(REPO / "roles"),
               ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([str(repo_collections), str(REPO / ".collections")]),
               ANSIBLE_NOCOLOR="1")

    def _run(playbook, *args, cwd):
        return subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", str(playbook),
                               "-e", "ansible_python_interpreter=" + sys.executable, *args],
                              cwd=cwd, env=env, capture_output=True, text=True)
    return _run


@pytest.fixture
def rc():
    """The 4-node example resource_config.json, free to modify."""
    return copy.deepcopy(_EXAMPLE["rc"])


@pytest.fixture
def pp():
    return copy.deepcopy(_EXAMPLE["pp"])


@pytest.fixture
def api_rc():
    return copy.deepcopy(_EXAMPLE["api_rc"])


@pytest.fixture(scope="session")
def matches_golden():
    """matches_golden(text, golden_path): compare with the golden file; UPDATE_GOLDEN=1 rewrites it
    first (after an intended change: review the diff)."""
    def _check(text, golden):
        if os.environ.get("UPDATE_GOLDEN"):
            golden.write_text(text)
        assert text == golden.read_text()
    return _check


@pytest.fixture
def write(tmp_path):
    """write(name, data) -> path; data is JSON-dumped unless it is already text."""
    def _write(name, data):
        path = tmp_path / name
        path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2))
        return str(path)
    return _write


def venv_with_core(version):
    """bin/ of a venv with this ansible-core, from the node lock and the wheels on_create.sh installs
    (tools/fetch_node_wheels.py); kept in .cache/test-venvs and rebuilt when its lock changes."""
    lock = REPO / "requirements" / "node-lock" / f"py{PY}-ansible-core-{version}.txt"
    if not lock.is_file() or not (WHEELS / f"ansible_core-{version}-py3-none-any.whl").is_file():
        pytest.skip(f"needs {lock.relative_to(REPO)} and its wheels in .cache/wheels (tools/fetch_node_wheels.py)")
    venv = REPO / ".cache" / "test-venvs" / lock.stem
    marker = venv / ".installed"
    if not marker.is_file() or marker.read_text() != lock.read_text():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", "--no-index",
                        "--find-links", str(WHEELS), "--only-binary=:all:", "--require-hashes", "-r", str(lock)],
                       check=True, env=dict(os.environ, PIP_CONFIG_FILE=os.devnull))
        marker.write_text(lock.read_text())
    return venv / "bin"


@pytest.fixture(scope="session", params=["oldest", "this venv"])
def ansible_bin(request):
    """bin/ of ansible-core 2.17 (the oldest supported, the newest for HyperPod's Python 3.10), and
    of this venv's (the newest this Python allows): a test taking it runs on both."""
    return venv_with_core(OLDEST_CORE) if request.param == "oldest" else Path(sys.executable).parent


@pytest.fixture
def run_tasks(ansible_bin, repo_collections, tmp_path):
    """run_tasks([(action, args), ...], *ansible_args, env=None) -> (CompletedProcess, results, kept):
    each task run on localhost by that ansible-core, errors ignored, its registered result in
    results (in order); kept: the names of the AnsiballZ files of every module run
    (ANSIBLE_KEEP_REMOTE_FILES), to tell which tasks ran a module."""
    def _run(tasks, *ansible_args, env=None):
        play, out, remote = tmp_path / "tasks.yml", tmp_path / "results.json", tmp_path / "remote"
        steps = "".join(f"""
    - name: {action} {index}
      {action}: {json.dumps(args)}
      register: result
      ignore_errors: true
    - name: Keep it
      ansible.builtin.set_fact:
        results: "{{{{ results + [result] }}}}"
""" for index, (action, args) in enumerate(tasks))
        play.write_text(f"""\
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    results: []
  tasks:{steps}
    - name: Write the results
      check_mode: false
      ansible.builtin.copy:
        content: "{{{{ results | to_json }}}}"
        dest: "{{{{ out }}}}"
        mode: "0600"
""")
        shutil.rmtree(remote, ignore_errors=True)
        run_env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(repo_collections),
                       ANSIBLE_NOCOLOR="1", ANSIBLE_KEEP_REMOTE_FILES="1", ANSIBLE_REMOTE_TMP=str(remote), **(env or {}))
        done = subprocess.run([str(ansible_bin / "ansible-playbook"), "-i", "localhost,", str(play),
                               "-e", f"ansible_python_interpreter={ansible_bin / 'python'}", "-e", f"out={out}",
                               *ansible_args], cwd=tmp_path, env=run_env, capture_output=True, text=True,
                              timeout=300, check=False)
        results = json.loads(out.read_text()) if done.returncode == 0 else None
        kept = sorted(path.name for path in remote.rglob("AnsiballZ_*.py")) if remote.is_dir() else []
        return done, results, kept
    return _run
