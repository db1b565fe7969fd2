"""The repository passes ansible-lint (production profile) and yamllint."""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent


def check(command):
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]


def test_ansible_lint_production_profile():
    check([str(BIN / "ansible-lint"), "--nocolor", "--profile", "production"])


def test_yamllint():
    check([str(BIN / "yamllint"), "--strict", "."])


def test_shell_scripts_parse():
    for script in ["on_create.sh", "tools/setup-host", "tools/test", "tools/cluster", "tools/build-collection",
                   ".ci/run"]:
        text = (ROOT / script).read_text()
        if text.startswith("#!") and "python" in text.splitlines()[0]:  # tools/cluster is Python now
            compile(text, script, "exec")
        else:
            check(["bash", "-n", script])
