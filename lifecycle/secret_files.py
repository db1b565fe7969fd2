"""Secrets from files, never from the command line: a -e value shows in `ps`, in ansible-runner's
saved command (artifacts/<run>/command) and in shell history. The munge key comes from a file or
standard input (`bootstrap.py run --munge-key-file PATH|-`); the run gets it through a root-only
variables file in its runner folder, named by path on Ansible's command line (-e @file), and
removed when the run ends (and by the next run, after a SIGKILL). No error shows a secret.
"""

import base64
import binascii
import json
import os
import sys
from pathlib import Path

from ansible_collections.hyperpod.slurm.plugins.plugin_utils.inputs import ConfigError, read_input

MUNGE_KEY_VARIABLE = "slurm_common_munge_key"
# munged refuses keys shorter than 32 bytes; mungekey writes 128 by default, at most 1024.
MUNGE_KEY_BYTES = (32, 1024)
MAX_KEY_FILE = 64_000
VARS_FILE = "secret-vars.json"
FIX = "give a file holding the key in base64 (base64 -w0 /etc/munge/munge.key), or '-' and the key on stdin"


def read_munge_key(option, path):
    """The munge key, base64 without whitespace, from path ('-': standard input); ConfigError
    naming the option, never the content."""
    where = f"{option} {path}"
    if path == "-":
        data = sys.stdin.buffer.read(MAX_KEY_FILE + 1)
        if len(data) > MAX_KEY_FILE:
            raise ConfigError(where, None, f"is larger than {MAX_KEY_FILE // 1000} kB", FIX)
    else:
        try:
            data = read_input(path, MAX_KEY_FILE)  # a regular file only: a FIFO would hang, a device not end
        except ConfigError as e:
            raise ConfigError(where, None, e.problem, FIX) from None
    text = b"".join(data.split())
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(where, None, "is not base64 text", FIX) from None
    low, high = MUNGE_KEY_BYTES
    if not low <= len(key) <= high:
        raise ConfigError(where, None, f"holds a key of {len(key)} bytes; munge needs {low} to {high}", FIX)
    return text.decode("ascii")


def write_vars(private, variables):
    """Write the secret variables for a run, readable by root only; returns the -e argument."""
    path = Path(private) / VARS_FILE
    remove_vars(private)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(fd, "w", encoding="utf-8") as f:
        json.dump(variables, f)
    return f"@{path}"


def remove_vars(private):
    try:
        (Path(private) / VARS_FILE).unlink()
    except FileNotFoundError:
        pass
