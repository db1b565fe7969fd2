"""requirements/node-lock/: one lock per Python and ansible-core of LOCKS, on_create.sh's picks among
them, and .cache/wheels holding, for every lock on every architecture, what pip installs (no network)."""

import fnmatch
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from workstation import bundle as wb  # noqa: E402
from workstation import node_lock  # noqa: E402

LOCKS = node_lock.read_locks()
HAS_WHEELS = any(wb.WHEELS_DIR.glob("ansible_core-*.whl"))
needs_wheels = pytest.mark.skipif(not HAS_WHEELS, reason="needs .cache/wheels (tools/fetch_node_wheels.py)")


def pip_env():
    """This host's pip configuration (find-links, extra indexes) must not fill gaps in the wheels."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    return dict(env, PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1")


def test_one_lock_per_python_and_core_of_LOCKS():
    assert [(lock.python, lock.core) for lock in LOCKS] == sorted(
        ((py, core) for py, cores in node_lock.LOCKS.items() for core in cores),
        key=lambda pc: (tuple(map(int, pc[0].split("."))), pc[1]))
    for lock in LOCKS:
        assert lock.pins["ansible-core"][0] == lock.core
        assert {"ansible-runner", "boto3", "pyyaml", "cryptography", "cffi", "markupsafe"} <= set(lock.pins)
        assert all(hashes for _, hashes in lock.pins.values()), lock.path  # pip --require-hashes needs them all


def test_on_create_picks_the_first_core_of_LOCKS_for_each_python():
    picks = wb.node_python_pins()
    for python, cores in node_lock.LOCKS.items():
        pattern = next(py for py, _ in picks if fnmatch.fnmatch(python, py))
        assert dict(picks)[pattern] == cores[0], python


def test_parse_reads_pins_and_hashes_of_uv_output():
    text = ("# generated\nfoo-bar==1.0 \\\n    --hash=sha256:" + "a" * 64 + " \\\n    --hash=sha256:" + "b" * 64
            + "\n    # via -r requirements/node.txt\nbaz==2.0.post1 \\\n    --hash=sha256:" + "c" * 64 + "\n")
    assert node_lock.parse(text) == {"foo-bar": ("1.0", {"a" * 64, "b" * 64}), "baz": ("2.0.post1", {"c" * 64})}


@needs_wheels
@pytest.mark.parametrize("arch", node_lock.ARCHES)
@pytest.mark.parametrize("lock", LOCKS, ids=lambda lock: lock.path.name)
def test_the_wheels_satisfy_every_lock_on_every_arch(tmp_path, lock, arch):
    """What a node of that Python and architecture runs, offline: pip, hashes required, wheels only."""
    cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--no-index",
           "--find-links", str(wb.WHEELS_DIR), "--only-binary=:all:", "--implementation", "cp",
           "--python-version", lock.python, "--target", str(tmp_path / "t"), "--require-hashes", "-r", str(lock.path)]
    for platform in node_lock.manylinux_platforms(arch):
        cmd += ["--platform", platform]
    result = subprocess.run(cmd, capture_output=True, text=True, env=pip_env())
    assert result.returncode == 0, result.stderr + "\n(run tools/fetch_node_wheels.py)"
    # The bundle's own summary agrees with pip.
    wheels = {p.name: wb.sha256_file(p) for p in wb.WHEELS_DIR.glob("*.whl")}
    assert node_lock.missing(lock, arch, wheels) == []


@needs_wheels
def test_the_wheels_are_only_what_the_locks_name():
    named = set().union(*(lock.hashes for lock in LOCKS))
    extra = [p.name for p in wb.WHEELS_DIR.glob("*.whl") if wb.sha256_file(p) not in named]
    assert extra == [], "run tools/fetch_node_wheels.py"


def test_missing_names_what_a_node_lacks():
    lock = next(lock for lock in LOCKS if lock.python == "3.12")
    pyyaml_version, _ = lock.pins["pyyaml"]
    wheels = {f"pyyaml-{pyyaml_version}-cp312-cp312-manylinux_2_17_x86_64.whl": "0" * 64}
    assert "pyyaml" in node_lock.missing(lock, "x86_64", wheels)  # wrong hash: not the locked file
    digest = next(iter(lock.pins["pyyaml"][1]))
    wheels = {f"pyyaml-{pyyaml_version}-cp312-cp312-manylinux_2_17_x86_64.whl": digest}
    assert "pyyaml" not in node_lock.missing(lock, "x86_64", wheels)
    assert "pyyaml" in node_lock.missing(lock, "aarch64", wheels)
    assert "pyyaml" in node_lock.missing(next(lock for lock in LOCKS if lock.python == "3.13"), "x86_64", wheels)


def test_the_bundle_reports_which_pythons_and_arches_go_to_the_index(tmp_path):
    """Only the pure-Python wheels: every node would need the package index, and the summary says so."""
    pure = tmp_path / "wheels"
    pure.mkdir()
    for wheel in wb.WHEELS_DIR.glob("*-none-any.whl"):
        (pure / wheel.name).symlink_to(wheel)
    built = wb.collect(wheels_dir=pure)
    assert set(built.files) >= {f"{wb.BUNDLE_LOCKS}/{lock.path.name}" for lock in LOCKS}
    coverage = wb.wheel_coverage(built)
    assert coverage == {arch: ([], ["3.10", "3.11", "3.12", "3.13"]) for arch in node_lock.ARCHES}
    if HAS_WHEELS:
        full = wb.wheel_coverage(wb.collect())
        assert full == {arch: (["3.10", "3.11", "3.12", "3.13"], []) for arch in node_lock.ARCHES}
