"""Each role's README lists its variables as its meta/argument_specs.yml says (tools/role_docs.py)."""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_role_readmes_match_their_argument_specs():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "role_docs.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr + " - run tools/role_docs.py after changing meta/argument_specs.yml"
