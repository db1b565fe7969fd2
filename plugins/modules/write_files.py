#!/usr/bin/python
"""A role's small files, folders and links in one module run: what a loop of copy, file and template
tasks does, at the cost of one task."""

DOCUMENTATION = r"""
module: write_files
short_description: Write a role's files, folders and links in one module run
description:
  - Creates the folders of O(folders), then for each entry of O(files) writes O(files[].content) to
    O(files[].dest) when the file is missing or holds other bytes (a temporary file in the same
    folder, then renamed over the old one), and sets its owner, group and mode when they differ. A file that is already right is left untouched.
  - One module run for all of them. A loop of M(ansible.builtin.copy) costs a module run (two with a
    change) per file, which is most of a no-op rerun's time for small files (bench/RESULTS.md).
  - Then points each link of O(links) at its target and removes the paths of O(absent). Nothing is
    written when an entry is wrong (a relative path, a mode that is not octal, content that is not
    text, a file whose folder neither exists nor is in O(folders)) - the run fails naming it first.
  - O(files[].json) instead of O(files[].content) writes data as JSON, in the bytes of
    C(to_nice_json) followed by a newline (ansible-core 2.17 turns templated text that starts with a
    brace into a dict, so JSON cannot go through O(files[].content)).
  - Text only (the content is written as UTF-8); for a file from
    the Ansible controller, pass C(lookup('ansible.builtin.file', path, rstrip=false)) so that its last
    newline stays; for a template, C(lookup('ansible.builtin.template', name)) gives the bytes the
    M(ansible.builtin.template) module writes.
version_added: 1.2.0
author: hyperpod.slurm
options:
  folders:
    description: Folders to create (with their parents) before the files, and whose owner, group and mode to set.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path of the folder.
        type: path
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
        description: Its mode, octal as a string (C("0755")).
        type: str
        required: true
  files:
    description: The files.
    type: list
    elements: dict
    default: []
    suboptions:
      dest:
        description: Absolute path of the file.
        type: path
        required: true
      content:
        description: What the file holds (a string). Exactly one of O(files[].content) and O(files[].json).
        type: raw
      json:
        description: Data the file holds as JSON (C(to_nice_json)'s bytes and a newline).
        type: raw
      force:
        description: When false, a file that exists is left as it is (content, owner, group and mode).
        type: bool
        default: true
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
  links:
    description: Symbolic links, made or moved to point at O(links[].src). A path there that is not a link is refused.
    type: list
    elements: dict
    default: []
    suboptions:
      dest:
        description: Absolute path of the link.
        type: path
        required: true
      src:
        description: What the link points at (relative to the link's folder, or absolute).
        type: str
        required: true
  absent:
    description: Files or links to remove where they exist (never a folder).
    type: list
    elements: path
    default: []
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Install the hook programs, their folder, settings and second name
  hyperpod.slurm.write_files:
    folders:
      - {path: /etc/slurm/prolog.d, mode: "0755"}
    files:
      - dest: /usr/local/sbin/hpb-hook
        content: "{{ lookup('ansible.builtin.file', 'hpb-hook', rstrip=false) }}"
        mode: "0755"
      - dest: /etc/slurm/hpb-hooks.json
        json: {gpus: 8}
        mode: "0644"
    links:
      - {dest: /usr/local/sbin/hpb-prolog, src: hpb-hook}
    absent: [/etc/slurm/prolog.d/20-old.gate]
"""

RETURN = r"""
changed_files:
  description: >-
    The paths created, written, pointed elsewhere, removed or whose owner, group or mode was set:
    folders, files, links, then removed paths, each in the order given.
  type: list
  elements: str
  returned: always
"""

import json
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


def nice_json(data):
    """The bytes of ansible-core's to_nice_json (indent 4, sorted keys) with a newline."""
    return json.dumps(data, indent=4, sort_keys=True, separators=(",", ": ")) + "\n"


def check(module, params):
    """Fails, naming the entry, before anything is written."""
    def fail(msg):
        module.fail_json(msg="write_files: " + msg)

    def octal(path, mode):
        try:
            int(mode, 8)
        except (TypeError, ValueError):
            fail("%s: mode %r is not octal (say \"0644\")" % (path, mode))

    paths = [f["path"] for f in params["folders"]] + [f["dest"] for f in params["files"]] + \
        [link["dest"] for link in params["links"]] + list(params["absent"])
    for path in paths:
        if not os.path.isabs(path):
            fail("%r is not an absolute path" % path)
    made = set()
    for folder in params["folders"]:
        octal(folder["path"], folder["mode"])
        if os.path.lexists(folder["path"]) and not os.path.isdir(folder["path"]):
            fail("%s exists and is not a folder" % folder["path"])
        path = os.path.normpath(folder["path"])
        while path not in made and path != os.path.dirname(path):  # its parents are made too
            made.add(path)
            path = os.path.dirname(path)
    for entry in params["files"] + params["links"]:
        folder = os.path.dirname(entry["dest"])
        if not os.path.isdir(folder) and os.path.normpath(folder) not in made:
            fail("the folder of %s does not exist; create it first (or list it in folders)" % entry["dest"])
    for entry in params["files"]:
        octal(entry["dest"], entry["mode"])
        if (entry["content"] is None) == (entry["json"] is None):
            fail("%s: give content or json, one of them" % entry["dest"])
        if entry["content"] is not None and not isinstance(entry["content"], str):
            fail("%s: content is a %s, not text (ansible-core 2.17 parses templated text that starts with { "
                 "or [): give it as json instead" % (entry["dest"], type(entry["content"]).__name__))
    for link in params["links"]:
        if os.path.lexists(link["dest"]) and not os.path.islink(link["dest"]):
            fail("%s exists and is not a link; remove it first" % link["dest"])
    for path in params["absent"]:
        if os.path.isdir(path) and not os.path.islink(path):
            fail("%s is a folder; absent removes files and links only" % path)


def set_attributes(module, path, owner, group, mode, changed):
    attrs = module.load_file_common_arguments({"owner": owner, "group": group, "mode": mode}, path=path)
    return module.set_fs_attributes_if_different(attrs, changed)


def make_folders(module, folders):
    changed = []
    for folder in folders:
        path = folder["path"]
        made = not os.path.isdir(path)
        if made and not module.check_mode:
            os.makedirs(path, 0o755)
        if os.path.isdir(path):
            made = set_attributes(module, path, folder["owner"], folder["group"], folder["mode"], made)
        if made:
            changed.append(path)
    return changed


def write_files(module, files):
    changed = []
    for entry in files:
        dest = entry["dest"]
        if not entry["force"] and os.path.lexists(dest):
            continue
        text = entry["content"] if entry["content"] is not None else nice_json(entry["json"])
        data = to_bytes(text, errors="surrogate_or_strict")
        file_changed = content_differs(dest, data)
        if file_changed and not module.check_mode:
            write_atomically(dest, data)
        if os.path.exists(dest):
            file_changed = set_attributes(module, dest, entry["owner"], entry["group"], entry["mode"], file_changed)
        if file_changed:
            changed.append(dest)
    return changed


def point_links(module, links):
    changed = []
    for link in links:
        dest, src = link["dest"], link["src"]
        if os.path.islink(dest) and os.readlink(dest) == src:
            continue
        changed.append(dest)
        if not module.check_mode:
            tmp = "%s.%d.tmp" % (dest, os.getpid())
            os.symlink(src, tmp)
            os.replace(tmp, dest)  # never a moment without the link
    return changed


def remove(module, paths):
    changed = [path for path in paths if os.path.lexists(path)]
    if not module.check_mode:
        for path in changed:
            os.unlink(path)
    return changed


def run(module, params):
    """Does what differs; returns the changed paths."""
    check(module, params)
    return (make_folders(module, params["folders"]) + write_files(module, params["files"])
            + point_links(module, params["links"]) + remove(module, params["absent"]))


def main():
    module = AnsibleModule(
        argument_spec={
            "folders": {"type": "list", "elements": "dict", "default": [], "options": {
                "path": {"type": "path", "required": True},
                "owner": {"type": "str", "default": "root"},
                "group": {"type": "str", "default": "root"},
                "mode": {"type": "str", "required": True},
            }},
            "files": {"type": "list", "elements": "dict", "default": [], "options": {
                "dest": {"type": "path", "required": True},
                "content": {"type": "raw"},
                "json": {"type": "raw"},
                "force": {"type": "bool", "default": True},
                "owner": {"type": "str", "default": "root"},
                "group": {"type": "str", "default": "root"},
                "mode": {"type": "str", "required": True},
            }},
            "links": {"type": "list", "elements": "dict", "default": [], "options": {
                "dest": {"type": "path", "required": True},
                "src": {"type": "str", "required": True},
            }},
            "absent": {"type": "list", "elements": "path", "default": []},
        },
        supports_check_mode=True,
    )
    changed = run(module, module.params)
    module.exit_json(changed=bool(changed), changed_files=changed)


if __name__ == "__main__":
    main()
