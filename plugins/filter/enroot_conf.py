"""The settings of an image's enroot.conf (role enroot_pyxis), kept under the role's own: an
image tuned for its instance (paths on the NVMe disk, squashfs options) keeps its choices."""

import re

# Enroot reads "KEY value" (or KEY=value) lines; '#' starts a comment line.
_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)(?:\s*=\s*|\s+)(.*?)\s*$")


def enroot_conf_settings(text):
    """{KEY: value} of the lines that set a key, in file order; comment and blank lines, and keys
    without a value, are left out. Values are kept as written (enroot expands them, not Ansible)."""
    settings = {}
    for line in str(text or "").splitlines():
        if line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if match and match.group(2):
            settings[match.group(1)] = match.group(2)
    return settings


class FilterModule:
    """enroot.conf."""

    def filters(self):
        return {"enroot_conf_settings": enroot_conf_settings}
