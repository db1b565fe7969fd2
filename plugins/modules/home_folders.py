#!/usr/bin/python
"""Users' home folders made and owned in one module run, never following a symbolic link."""

DOCUMENTATION = r"""
module: home_folders
short_description: Make users' home folders with their owner, in one module run, never following a link
description:
  - For each entry of O(homes), makes the folder O(homes[].home) when it is missing (its missing
    parents too, owned by root, mode 0755), gives it the owner O(homes[].name) and the group
    O(homes[].gid) when they differ, and adds read, write and search for the owner to its mode (the
    rest of the mode stays the user's).
  - One module run for every user. A loop of M(ansible.builtin.file) costs a module run per user on
    every rerun of every node - with hundreds of shared users, most of a rerun (bench/RESULTS.md).
  - A home that exists as anything but a folder - a symbolic link (to /etc, say) among them - stops
    the module before any folder is touched; such a path is never made the user's.
version_added: 1.2.0
author: hyperpod.slurm
options:
  homes:
    description: The users and their homes.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The user (a name this node knows).
        type: str
        required: true
      home:
        description: Absolute path of the home folder.
        type: path
        required: true
      gid:
        description: The folder's group (a number).
        type: int
        required: true
      old:
        description: Not used here - the home the account moves from, in the entries of the
          C(hyperpod.slurm.home_moves) filter, which this module takes as they are.
        type: str
        default: ""
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Make the home folders
  hyperpod.slurm.home_folders:
    homes:
      - {name: alice, home: /fsx/home/alice, gid: 2001}
"""

RETURN = r"""
changed_homes:
  description: The homes made or changed (owner, group or mode).
  type: list
  elements: str
  returned: always
"""

import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule

OWNER_BITS = stat.S_IRWXU
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW


class HomeError(Exception):
    pass


def check(homes):
    """Each home's lstat (None when missing) and owner's uid; HomeError for a home that is not a
    folder or an unknown user, before anything changes."""
    found = []
    for entry in homes:
        try:
            uid = pwd.getpwnam(entry["name"]).pw_uid
        except KeyError:
            raise HomeError("user %s does not exist on this node" % entry["name"])
        if not os.path.isabs(entry["home"]):
            raise HomeError("%s's home %s is not an absolute path" % (entry["name"], entry["home"]))
        try:
            st = os.lstat(entry["home"])
        except FileNotFoundError:
            st = None
        if st is not None and not stat.S_ISDIR(st.st_mode):
            kind = "a symbolic link" if stat.S_ISLNK(st.st_mode) else "not a folder"
            raise HomeError("%s's home %s is %s; it is never made the user's: remove it or give another home"
                            % (entry["name"], entry["home"], kind))
        found.append((entry, uid, st))
    return found


def _needs(st, uid, gid):
    return st is None or st.st_uid != uid or st.st_gid != gid or stat.S_IMODE(st.st_mode) & OWNER_BITS != OWNER_BITS


def apply(homes, dry=False):
    """Make and own each home; returns the homes changed. HomeError as check()."""
    changed = []
    for entry, uid, st in check(homes):
        if not _needs(st, uid, entry["gid"]):
            continue
        changed.append(entry["home"])
        if dry:
            continue
        if st is None:
            parent = os.path.dirname(entry["home"].rstrip("/"))
            os.makedirs(parent, mode=0o755, exist_ok=True)
            os.mkdir(entry["home"], 0o755)
        # The folder itself, opened without following a link: a link swapped in since check() fails here.
        fd = os.open(entry["home"], DIR_FLAGS)
        try:
            now = os.fstat(fd)
            os.fchown(fd, uid, entry["gid"])
            os.fchmod(fd, stat.S_IMODE(now.st_mode) | OWNER_BITS)
        finally:
            os.close(fd)
    return changed


def main():
    module = AnsibleModule(
        argument_spec={"homes": {"type": "list", "elements": "dict", "required": True, "options": {
            "name": {"type": "str", "required": True},
            "home": {"type": "path", "required": True},
            "gid": {"type": "int", "required": True},
            "old": {"type": "str", "default": ""}}}},
        supports_check_mode=True)
    try:
        changed = apply(module.params["homes"], dry=module.check_mode)
    except HomeError as e:
        module.fail_json(msg="home_folders: %s" % e)
    except OSError as e:
        module.fail_json(msg="home_folders: %s: %s" % (e.filename, e.strerror))
    module.exit_json(changed=bool(changed), changed_homes=changed)


if __name__ == "__main__":
    main()
