#!/usr/bin/python3
"""hyperpod-bundle test stand-in for /sbin/mount.lustre (tests only: never on a real node).

The containers have no Lustre kernel client. molecule/hyperpod's prepare.yml installs this file as
the node's /sbin/mount.lustre, the helper mount(8) runs for `mount -t lustre`, so that the fsx
role's real code path runs unchanged (its Lustre fstab line, ansible.posix.mount, the retry loop,
the write check; systemd's mount unit at boot): for

  mount -t lustre <dns_name>@tcp:/<mount_name> <path> -o <options>

it mounts <SERVER_ROOT>/<mount_name> of the sftp server at <dns_name> with sshfs (FUSE), the
fsx-server container's folder. The mount table then shows type fuse.sshfs and, as source, the
Lustre source (sshfs's fsname). Of the options it keeps the kernel's generic ones sshfs passes on
(noatime, ro, ...), and drops Lustre's own (flock) and mount(8)'s (_netdev, x-systemd.*).

  mount.lustre SOURCE PATH [-sfnv] [-N NAMESPACE] [-o OPTIONS] [-t TYPE]   (mount(8)'s helper call)
"""

import getopt
import os
import re
import sys

SSHFS = "/usr/bin/sshfs"
# Where the harness's sftp server (molecule/hyperpod/prepare.yml) listens, and its folder holding
# one folder per Lustre mount name.
SERVER_PORT = 2222
SERVER_ROOT = "/exports"
# Generic mount flags that FUSE passes to the kernel; every other option is Lustre's or mount(8)'s.
KEPT = {"ro", "rw", "noatime", "relatime", "strictatime", "nodiratime", "nodev", "dev", "nosuid", "suid",
        "noexec", "exec", "sync", "async", "dirsync"}
LUSTRE_SOURCE = re.compile(r"^(?P<dns_name>[^@:/\s]+)@tcp:/(?P<mount_name>[\w.-]+)$")


def sshfs_command(argv):
    """(the sshfs command, mount(8)'s flags) for its helper arguments; ValueError naming what is wrong."""
    if len(argv) < 2:
        raise ValueError("usage: mount.lustre SOURCE PATH [-o OPTIONS]")
    source, path = argv[0], argv[1]
    found = LUSTRE_SOURCE.match(source)
    if not found:
        raise ValueError("%s is not <dns_name>@tcp:/<mount_name>" % source)
    try:
        flags, rest = getopt.getopt(argv[2:], "sfnvN:o:t:")
    except getopt.GetoptError as e:
        raise ValueError(str(e)) from None
    if rest:
        raise ValueError("unexpected arguments %s" % " ".join(rest))
    given = [o for flag, value in flags if flag == "-o" for o in value.split(",") if o]
    options = ["directport=%d" % SERVER_PORT, "dir_cache=no", "allow_other", "default_permissions",
               "fsname=" + source] + [o for o in given if o in KEPT]
    return ([SSHFS, "%s:%s/%s" % (found["dns_name"], SERVER_ROOT, found["mount_name"]), path,
             "-o", ",".join(options)], {flag for flag, _ in flags})


def main(argv):
    try:
        command, flags = sshfs_command(argv)
    except ValueError as e:
        print("mount.lustre (test stand-in): %s" % e, file=sys.stderr)
        return 32  # mount(8)'s "mount failure"
    if flags & {"-v", "-f"}:
        print("mount.lustre (test stand-in): " + " ".join(command))
    if "-f" in flags:  # mount -f: fake, do everything but mount
        return 0
    os.execv(command[0], command)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
