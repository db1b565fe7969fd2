"""The bad-input corpus, end to end: `bootstrap.py run` on a copy of the bundle for every folder of
bad_input/ (the format is in bad_input/README.md). Each case must exit 2 with exactly its expected
line on stderr, print nothing else, and leave the machine as it was."""

import os
import re
import shlex
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CASES_DIR = Path(__file__).resolve().parent / "bad_input"
CASES = sorted(p.name for p in CASES_DIR.iterdir() if p.is_dir())
DEFAULT_ARGS = "--node controller-machine-1"

# If a bad input ever got past bootstrap.py, the real site.yml would converge this machine (the
# tests run as root). The copy's site.yml fails at once instead, so a gap shows as a failed case.
TRIPWIRE = """---
- name: Tripwire - bootstrap.py let a bad input through
  hosts: all
  gather_facts: false
  tasks:
    - name: Stop before anything changes
      ansible.builtin.fail:
        msg: bootstrap.py started Ansible
"""


@pytest.fixture(scope="session")
def pristine(tmp_path_factory):
    """The bundle's files as HyperPod copies them to a node (`bootstrap.py bundle --list`), with the tripwire."""
    bundle = tmp_path_factory.mktemp("bundle")
    listed = subprocess.run([sys.executable, str(REPO / "bootstrap.py"), "bundle", "--list"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout.split()
    for line in listed:
        source = REPO / line
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, bundle / line)
    (bundle / "playbooks" / "site.yml").write_text(TRIPWIRE)
    shutil.copy2(REPO / "examples" / "resource_config.json", bundle / "resource_config.json")
    return bundle


def snapshot(root):
    """Every file below root with its size and modification time."""
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def run_case(name, pristine, work):
    """Overlay the case on a copy of the bundle and run bootstrap.py there, HOME and logs in work."""
    bundle, home, log_dir = work / "bundle", work / "home", work / "log"
    shutil.copytree(pristine, bundle, symlinks=True)
    shutil.copytree(CASES_DIR / name, bundle, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("args", "expected.txt"))
    home.mkdir()
    args_file = CASES_DIR / name / "args"
    args = shlex.split(args_file.read_text() if args_file.exists() else DEFAULT_ARGS)
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
           "SAGEMAKER_RESOURCE_CONFIG_PATH": str(bundle / "resource_config.json")}
    before = snapshot(bundle)
    done = subprocess.run([sys.executable, str(bundle / "bootstrap.py"), "run", *args, "--log-dir", str(log_dir)],
                          cwd=bundle, env=env, capture_output=True, text=True, timeout=120, check=False)
    return {"done": done, "bundle": bundle, "home": home, "log_dir": log_dir,
            "bundle_changed": snapshot(bundle) != before}


@pytest.fixture(scope="session")
def results(request, pristine, tmp_path_factory):
    """Every selected case, run in parallel once (each is a short Python process)."""
    selected = sorted({item.callspec.params["case"] for item in request.session.items
                       if getattr(item, "originalname", "") == "test_bad_input"})
    root = tmp_path_factory.mktemp("cases")
    for name in selected:
        (root / name).mkdir()
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(selected, pool.map(lambda n: run_case(n, pristine, root / n), selected)))


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 30
    for name in CASES:
        lines = (CASES_DIR / name / "expected.txt").read_text().splitlines()
        assert len(lines) == 1 and lines[0].strip(), f"{name}/expected.txt must hold one line"


def refused_fields(file_name):
    """{field, with list indexes as []} of the expected lines about file_name, and their problems."""
    found = {}
    for name in CASES:
        line = (CASES_DIR / name / "expected.txt").read_text().strip()
        match = re.match(rf"\{{bundle\}}/{re.escape(file_name)}: ([^:]+): (.*)", line)
        if match:
            found.setdefault(re.sub(r"\[\d+\]", "[]", match.group(1)), []).append(match.group(2))
    return found


def test_the_corpus_covers_every_field_the_model_reads():
    """Each field of each input file that the cluster model reads (cluster.FIELDS) has a case whose
    line names it: a field the model starts to read needs a bad value in the corpus. A field
    written <...> stands for any key the model does not know; the users file's lines name their
    fields by word (uid 'x' of 'alice', home '/etc' of ...)."""
    sys.path.insert(0, str(REPO))
    import lifecycle  # noqa: F401 - the checkout as the collection hyperpod.slurm
    from ansible_collections.hyperpod.slurm.plugins.plugin_utils.cluster import FIELDS

    missing = []
    for file_name, fields in FIELDS.items():
        refused = refused_fields(file_name)
        if file_name == "shared_users.txt":
            problems = " ".join(" ".join(p) for p in refused.values())
            missing += [f"{file_name}: {f}" for f in fields if not re.search(rf"\b{f}\b", problems)]
            continue
        for field in fields:
            if "<" in field:  # any key but the declared ones
                prefix = field.split("<")[0]
                covered = any(f.startswith(prefix) and f not in fields for f in refused)
            else:
                covered = field in refused
            if not covered:
                missing.append(f"{file_name}: {field}")
    assert missing == [], "no bad-input case names these fields"


@pytest.mark.parametrize("case", CASES)
def test_bad_input(case, results):
    r = results[case]
    expected = (CASES_DIR / case / "expected.txt").read_text().strip().replace("{bundle}", str(r["bundle"]))
    done = r["done"]
    assert (done.returncode, done.stderr, done.stdout) == (2, expected + "\n", "")
    assert not r["log_dir"].exists(), "bootstrap.py went on to Ansible (the log folder was made)"
    assert not r["bundle_changed"], "a file in the bundle was written"
    # Ansible makes its (empty) local temp folder on import; nothing else may appear in HOME.
    assert [p for p in r["home"].rglob("*") if not p.is_dir()] == []
    assert os.listdir(r["home"]) in ([], [".ansible"])
