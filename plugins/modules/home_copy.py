#!/usr/bin/python
"""Copy a home folder into a new one, as root, without following a symbolic link on either side."""

DOCUMENTATION = r"""
module: home_copy
short_description: Copy a user's files to a new home without overwriting, never following a link
description:
  - Copies what is missing in O(dest) from O(src) - folders, regular files and symbolic links, with
    their owner, group, mode and modification time. Files already in O(dest) are left as they are
    (another node may have copied first). Other kinds of files (sockets, FIFOs, devices) are left
    behind.
  - Runs as root, yet cannot be turned against root by the user whose home it copies - every
    file and folder is opened relative to its parent's descriptor with C(O_NOFOLLOW) and created
    with C(O_EXCL), so a symbolic link the user placed in either folder (C(.ssh -> /root/.ssh))
    is never followed, and is copied or skipped as a link. Owners and modes are kept, so a file
    the user could not read stays unreadable to the user.
  - Nothing happens when O(src) does not exist. O(dest) must exist and be a folder, not a link.
version_added: 1.1.0
author: hyperpod.slurm
options:
  src:
    description: The old home.
    type: path
    required: true
  dest:
    description: The new home.
    type: path
    required: true
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Copy ubuntu's files to its home on FSx
  hyperpod.slurm.home_copy:
    src: /home/ubuntu
    dest: /fsx/ubuntu
"""

RETURN = r"""
copied:
  description: How many files, folders and links were created in O(dest).
  type: int
  returned: always
skipped:
  description: Entries of O(src) left behind - already in O(dest) as another kind, or neither file, folder nor link.
  type: list
  elements: str
  returned: always
"""

import errno
import os
import stat

from ansible.module_utils.basic import AnsibleModule

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
CHUNK = 1 << 20


class Result:
    def __init__(self, dry):
        self.dry, self.copied, self.skipped = dry, 0, []


def _keep_attributes(st, fd=None, name=None, dir_fd=None):
    """Owner, group, mode and mtime of st onto an open file (fd) or a link (name in dir_fd)."""
    if fd is not None:
        os.fchown(fd, st.st_uid, st.st_gid)
        os.fchmod(fd, stat.S_IMODE(st.st_mode))
        os.utime(fd, ns=(st.st_atime_ns, st.st_mtime_ns))
    else:
        os.chown(name, st.st_uid, st.st_gid, dir_fd=dir_fd, follow_symlinks=False)


def _copy_file(name, st, src_fd, dest_fd):
    source = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=src_fd)
    try:
        target = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=dest_fd)
        try:
            while True:
                block = os.read(source, CHUNK)
                if not block:
                    break
                os.write(target, block)
            _keep_attributes(st, fd=target)
        finally:
            os.close(target)
    finally:
        os.close(source)


def _copy_dir(src_fd, dest_fd, where, result):
    """Copy what dest_fd lacks of src_fd's entries; where is the relative path, for messages."""
    with os.scandir(src_fd) as entries:
        names = sorted(entry.name for entry in entries)
    for name in names:
        st = os.stat(name, dir_fd=src_fd, follow_symlinks=False)
        try:
            have = os.stat(name, dir_fd=dest_fd, follow_symlinks=False)
        except FileNotFoundError:
            have = None
        path = os.path.join(where, name)
        if stat.S_ISDIR(st.st_mode):
            if have is not None and not stat.S_ISDIR(have.st_mode):
                result.skipped.append(path)
                continue
            if have is None:
                result.copied += 1
                if result.dry:
                    continue
                os.mkdir(name, 0o700, dir_fd=dest_fd)
            sub_src = os.open(name, DIR_FLAGS, dir_fd=src_fd)
            try:
                sub_dest = os.open(name, DIR_FLAGS, dir_fd=dest_fd)
                try:
                    _copy_dir(sub_src, sub_dest, path, result)
                    if have is None:
                        _keep_attributes(st, fd=sub_dest)
                finally:
                    os.close(sub_dest)
            finally:
                os.close(sub_src)
        elif have is not None:
            continue  # never overwrite
        elif stat.S_ISREG(st.st_mode):
            result.copied += 1
            if not result.dry:
                _copy_file(name, st, src_fd, dest_fd)
        elif stat.S_ISLNK(st.st_mode):
            result.copied += 1
            if not result.dry:
                os.symlink(os.readlink(name, dir_fd=src_fd), name, dir_fd=dest_fd)
                _keep_attributes(st, name=name, dir_fd=dest_fd)
        else:
            result.skipped.append(path)


def copy_home(src, dest, dry=False):
    """Copy src's tree into dest without overwriting or following links; returns a Result.
    OSError (with the path) where a folder cannot be opened, such as dest being a link."""
    result = Result(dry)
    try:
        src_fd = os.open(src, DIR_FLAGS)
    except FileNotFoundError:
        return result
    try:
        dest_fd = os.open(dest, DIR_FLAGS)
        try:
            _copy_dir(src_fd, dest_fd, "", result)
        finally:
            os.close(dest_fd)
    finally:
        os.close(src_fd)
    return result


def main():
    module = AnsibleModule(argument_spec={"src": {"type": "path", "required": True},
                                          "dest": {"type": "path", "required": True}},
                           supports_check_mode=True)
    src, dest = module.params["src"], module.params["dest"]
    try:
        result = copy_home(src, dest, dry=module.check_mode)
    except OSError as e:
        why = "is a symbolic link or not a folder" if e.errno in (errno.ELOOP, errno.ENOTDIR) else e.strerror
        module.fail_json(msg="home_copy: %s to %s: %s%s" % (src, dest, why, ": %s" % e.filename if e.filename else ""))
    module.exit_json(changed=result.copied > 0, copied=result.copied, skipped=result.skipped)


if __name__ == "__main__":
    main()
