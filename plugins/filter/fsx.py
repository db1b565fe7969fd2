"""The fstab entries of the fsx role's file systems. One pass over the file systems."""

import re

from ansible.errors import AnsibleFilterError

# A trailing slash would make a second fstab line for the same mount point ("/scratch/", "/scratch").
_TRAILING_SLASHES = re.compile(r"(.)/+$")


def fsx_mounts(filesystems, lustre_options, openzfs_options, openzfs_export):
    """[{type, dns_name, path, src, fstype, opts}] for [{type, dns_name, mount_name, path, export,
    options}]: Lustre as <dns>@tcp:/<mount_name>, OpenZFS as NFS <dns>:<export>, each with its own
    options or the type's."""
    mounts = []
    for fs in filesystems:
        lustre = fs["type"] == "lustre"
        if lustre:
            # A missing mount name gives "<dns>@tcp:/": the role's check names it before any mount.
            src, fstype = "%s@tcp:/%s" % (fs["dns_name"], fs.get("mount_name") or ""), "lustre"
        else:
            src, fstype = "%s:%s" % (fs["dns_name"], fs.get("export") or openzfs_export), "nfs"
        for field in ("dns_name", "path", "mount_name", "export", "options"):
            _one_fstab_field(fs.get(field), field, fs.get("path"))
        mounts.append({"type": fs["type"], "dns_name": fs["dns_name"],
                       "path": _TRAILING_SLASHES.sub(r"\1", fs["path"]), "src": src, "fstype": fstype,
                       "opts": fs.get("options") or (lustre_options if lustre else openzfs_options)})
    return mounts


def _one_fstab_field(value, field, path):
    """An fstab field is one word: a blank or a line break in a value would make other fields or
    another line of the fstab the role writes."""
    if value is not None and any(c.isspace() or c == "\0" for c in str(value)):
        raise AnsibleFilterError(
            "fsx_filesystems: the file system at %r has %s %r, with a blank, line break or NUL that "
            "would split the fstab line; remove them" % (path, field, str(value)[:80]))


class FilterModule:
    """The fsx role's mounts."""

    def filters(self):
        return {"fsx_mounts": fsx_mounts}
