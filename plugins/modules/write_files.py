#!/usr/bin/python
"""Several small files written in one module run: what a loop of copy tasks does, at the cost of one task."""

DOCUMENTATION = r"""
module: write_files
short_description: Write several files with their content, owner, group and mode in one module run
description:
  - For each entry of O(files), writes O(files[].content) to O(files[].dest) when the file is missing
    or holds other bytes (a temporary file in the same folder, then renamed over the old one), and sets
    its owner, group and mode when they differ. A file that is already right is left untouched.
  - One module run for all of them. A loop of M(ansible.builtin.copy) costs a module run (two with a
    change) per file, which is most of a no-op rerun's time for small files (bench/RESULTS.md).
  - The folder of each file must exist. Text only (the content is written as UTF-8); for a file from
    the Ansible controller, pass C(lookup('ansible.builtin.file', path, rstrip=false)) so that its last
    newline stays; for a template, C(lookup('ansible.builtin.template', name)) gives the bytes the
    M(ansible.builtin.template) module writes.
  - Not for content that starts with a brace or a bracket (JSON, YAML flow style) - ansible-core 2.17
    turns such a templated string into a dict or list before the module sees it, and the module
    refuses it. Write those with M(ansible.builtin.copy).
version_added: 1.2.0
author: hyperpod.slurm
options:
  files:
    description: The files.
    type: list
    elements: dict
    required: true
    suboptions:
      dest:
        description: Absolute path of the file.
        type: path
        required: true
      content:
        description: What the file holds (a string).
        type: raw
        required: true
      owner:
        description: Its owner (name or uid).
        type: str
        default: root
      group:
        description: Its group (name or gid).
        type: str
        default: root
      mode:
        description: Its mode, octal as a string (C("0644")).
        type: str
        required: true
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Install the hook programs
  hyperpod.slurm.write_files:
    files:
      - dest: /usr/local/sbin/hpb-hook
        content: "{{ lookup('ansible.builtin.file', 'hpb-hook', rstrip=false) }}"
        mode: "0755"
"""

RETURN = r"""
changed_files:
  description: The files written or whose owner, group or mode was set, in the order given.
  type: list
  elements: str
  returned: always
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes


def content_differs(dest, data):
    """True when dest is missing, not a regular file, or holds other bytes than data."""
    try:
        if not os.path.isfile(dest) or os.path.islink(dest) or os.path.getsize(dest) != len(data):
            return True
        with open(dest, "rb") as handle:
            return handle.read() != data
    except OSError:
        return True


def write_atomically(dest, data):
    """data into dest through a temporary file of the same folder: no reader sees half a file."""
    folder = os.path.dirname(dest)
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(dest), dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o600)  # until its own mode is set, after the rename
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def run(module, files):
    """Writes what differs; returns the changed paths. Fails, naming the file, before writing any
    when a folder is missing or a path is not absolute."""
    for entry in files:
        if not os.path.isabs(entry["dest"]):
            module.fail_json(msg="write_files: dest %r is not an absolute path" % entry["dest"])
        if not os.path.isdir(os.path.dirname(entry["dest"])):
            module.fail_json(msg="write_files: the folder of %s does not exist; create it first" % entry["dest"])
        if not isinstance(entry["content"], str):
            module.fail_json(msg="write_files: %s: content is a %s, not text (ansible-core 2.17 parses templated text "
                                 "that starts with { or [): write it with ansible.builtin.copy"
                             % (entry["dest"], type(entry["content"]).__name__))
        try:
            int(entry["mode"], 8)
        except (TypeError, ValueError):
            module.fail_json(msg="write_files: %s: mode %r is not octal (say \"0644\")" % (entry["dest"], entry["mode"]))
    changed = []
    for entry in files:
        dest, data = entry["dest"], to_bytes(entry["content"], errors="surrogate_or_strict")
        file_changed = content_differs(dest, data)
        if file_changed and not module.check_mode:
            write_atomically(dest, data)
        attrs = module.load_file_common_arguments(
            {"owner": entry["owner"], "group": entry["group"], "mode": entry["mode"]}, path=dest)
        if os.path.exists(dest):
            file_changed = module.set_fs_attributes_if_different(attrs, file_changed)
        if file_changed:
            changed.append(dest)
    return changed


def main():
    module = AnsibleModule(
        argument_spec={"files": {"type": "list", "elements": "dict", "required": True, "options": {
            "dest": {"type": "path", "required": True},
            "content": {"type": "raw", "required": True},
            "owner": {"type": "str", "default": "root"},
            "group": {"type": "str", "default": "root"},
            "mode": {"type": "str", "required": True},
        }}},
        supports_check_mode=True,
    )
    changed = run(module, module.params["files"])
    module.exit_json(changed=bool(changed), changed_files=changed)


if __name__ == "__main__":
    main()
