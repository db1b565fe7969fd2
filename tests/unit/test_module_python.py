"""lifecycle/module_python.py, the interpreter of bootstrap.py's runs: modules run as with Python
itself, but with ansible-core's module_utils imported from the venv's compiled files, not from the
module's zip."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

# A module of a library/ folder (ansible.legacy, only in its zip) with a module_utils/ folder's
# file (also only in the zip) that says where ansible-core's module_utils came from.
WHERE = '''
import sys
from ansible.module_utils import basic
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.hpb_test_utils import WORD

module = AnsibleModule(argument_spec={"exit_with": {"type": "int", "default": 0}})
if module.params["exit_with"]:
    module.fail_json(msg="told to fail")
module.exit_json(changed=False, loader=type(basic.__loader__).__name__, basic=basic.__file__, path=sys.path,
                 argv=sys.argv, word=WORD)
'''


@pytest.fixture(scope="module")
def bootstrap_py():
    spec = importlib.util.spec_from_file_location("bootstrap_under_test", REPO / "bootstrap.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def library(tmp_path):
    folder = tmp_path / "library"
    folder.mkdir()
    (folder / "where_basic.py").write_text(WHERE)
    (tmp_path / "module_utils").mkdir()
    (tmp_path / "module_utils" / "hpb_test_utils.py").write_text("WORD = 'from the zip'\n")
    return folder


def run_module(library, interpreter, args="", **env):
    """ansible's ad-hoc run of where_basic on localhost: (rc, the module's result)."""
    environ = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "ANSIBLE_LIBRARY": str(library),
               "ANSIBLE_MODULE_UTILS": str(library.parent / "module_utils"),
               "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "json", "HOME": str(library),
               "ANSIBLE_PYTHON_INTERPRETER": interpreter, **env}
    # An inventory's localhost: Ansible gives its implicit one the Python of ansible itself.
    done = subprocess.run(["ansible", "localhost", "-i", "localhost,", "-c", "local", "-m", "where_basic", "-a", args],
                          env=environ, capture_output=True, text=True, timeout=120, check=False)
    result = json.loads(done.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    return done.returncode, result


def test_module_utils_come_compiled_from_the_venv(bootstrap_py, library):
    interpreter = bootstrap_py.module_interpreter()
    rc, result = run_module(library, interpreter)
    assert rc == 0, result
    assert result["loader"] == "SourceFileLoader"  # from the venv's files and their .pyc, not a zipimporter
    assert result["word"] == "from the zip"
    assert Path(result["basic"]).is_relative_to(Path(sys.prefix))
    assert str(REPO / "lifecycle") not in result["path"]  # the wrapper's folder lends a module nothing
    assert result["argv"][0].endswith("ansible/legacy/where_basic.py")  # the library/ folder's module, from the zip


def test_without_it_they_come_from_the_zip(library):
    rc, result = run_module(library, sys.executable)
    assert rc == 0, result
    assert result["loader"] == "zipimporter"  # what the wrapper saves: compiling these on every run


def test_pipelining_and_failures_pass_through(bootstrap_py, library):
    interpreter = bootstrap_py.module_interpreter()
    rc, result = run_module(library, interpreter, ANSIBLE_PIPELINING="True")
    assert rc == 0 and result["loader"] == "SourceFileLoader", result
    rc, result = run_module(library, interpreter, "exit_with=1")
    assert rc == 2 and result["failed"] and result["msg"] == "told to fail"


def test_the_start_script_is_written_once(bootstrap_py):
    script = Path(bootstrap_py.module_interpreter())
    assert script.parent == Path(sys.executable).parent and os.access(script, os.X_OK)
    assert str(REPO / "lifecycle" / "module_python.py") in script.read_text()
    before = script.stat().st_mtime_ns
    assert bootstrap_py.module_interpreter() == str(script)
    assert script.stat().st_mtime_ns == before


def test_outside_a_venv_ansible_finds_python_itself(bootstrap_py, monkeypatch):
    monkeypatch.setattr(sys, "prefix", sys.base_prefix)
    assert bootstrap_py.module_interpreter() is None


def test_a_module_run_through_it_by_hand(tmp_path):
    """What Ansible does without pipelining: the interpreter, then the module file and its argument."""
    script = tmp_path / "print_args.py"
    script.write_text("import sys, ansible.module_utils.basic as b; print(sys.argv[1:], type(b.__loader__).__name__)\n"
                      "sys.exit(3)\n")
    done = subprocess.run([sys.executable, str(REPO / "lifecycle" / "module_python.py"), str(script), "ARGS"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout) == (3, "['ARGS'] SourceFileLoader\n"), done.stderr
