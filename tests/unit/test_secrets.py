"""Secrets never reach a command line or a log: the munge key comes from a file or stdin
(--munge-key-file), reaches Ansible through a root-only file named by path (-e @file), and appears
in nothing bootstrap.py, Ansible or ansible-runner write; on the command line it is refused."""

import base64
import hashlib
import os
import subprocess
import sys

from conftest import EXAMPLES, FIXTURES, REPO

KEY = base64.b64encode(bytes(range(256)) * 4).decode()  # a 1024-byte key, as mungekey can write
KEY_LINES = "\n".join(KEY[i:i + 76] for i in range(0, len(KEY), 76)) + "\n"  # as `base64` wraps it


def run(*args, cwd, stdin=None):
    return subprocess.run([sys.executable, str(REPO / "bootstrap.py"), "run", "--resource-config",
                           str(EXAMPLES / "resource_config.json"), "--node", "compute-gpu-1", *args],
                          cwd=cwd, input=stdin, capture_output=True, text=True, timeout=300, check=False)


def everything_written(folder):
    """The bytes of every file below folder (logs, summaries, runner artifacts and commands)."""
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


def test_munge_key_from_a_file_reaches_the_play_and_nothing_else(tmp_path):
    key_file = tmp_path / "munge.key.b64"
    key_file.write_text(KEY_LINES)
    log_dir = tmp_path / "log"
    secret_vars = log_dir / "runner" / "secret-vars.json"
    done = run("--munge-key-file", str(key_file), "--log-dir", str(log_dir), "--playbook",
               str(FIXTURES / "converge_secret.yml"), "-e", f"secret_vars_file={secret_vars}",
               "-e", f"expected_key_digest={hashlib.sha256(KEY.encode()).hexdigest()}", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not secret_vars.exists(), "the key's file outlived the run"
    written = everything_written(log_dir)
    assert b"artifacts" in b"".join(str(p).encode() for p in log_dir.rglob("command")), "no runner command saved"
    for piece in (KEY, KEY[:40], KEY[-40:]):  # whole, or any line of it
        assert piece.encode() not in written
        assert piece not in done.stdout + done.stderr


def test_munge_key_from_stdin(tmp_path):
    log_dir = tmp_path / "log"
    done = run("--munge-key-file", "-", "--log-dir", str(log_dir), "--playbook", str(FIXTURES / "converge_secret.yml"),
               "-e", f"secret_vars_file={log_dir / 'runner' / 'secret-vars.json'}",
               "-e", f"expected_key_digest={hashlib.sha256(KEY.encode()).hexdigest()}", cwd=tmp_path, stdin=KEY_LINES)
    assert done.returncode == 0, done.stdout + done.stderr
    assert KEY[:40].encode() not in everything_written(log_dir)


def test_munge_key_on_the_command_line_is_refused_and_not_echoed(tmp_path):
    for value in (f"slurm_common_munge_key={KEY}", f'{{"slurm_common_munge_key": "{KEY}"}}',
                  f'{{"slurm_common_munge_key": "{KEY}"'):  # the last one malformed
        done = run("-e", value, "--log-dir", str(tmp_path / "log"), cwd=tmp_path)
        assert done.returncode == 2
        assert KEY[:20] not in done.stderr + done.stdout
        assert len(done.stderr.splitlines()) == 1
    assert not (tmp_path / "log").exists()


def test_a_bad_key_file_is_described_never_shown(tmp_path):
    key_file = tmp_path / "munge.key"
    key_file.write_bytes(b"not base64 at all: secret-part-\xff\n")
    done = run("--munge-key-file", str(key_file), "--log-dir", str(tmp_path / "log"), cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (f"--munge-key-file {key_file}: is not base64 text; give a file holding the key in base64 "
                           "(base64 -w0 /etc/munge/munge.key), or '-' and the key on stdin\n")
    assert not os.path.exists(tmp_path / "log")
