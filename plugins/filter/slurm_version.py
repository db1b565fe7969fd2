"""Slurm versions compared between a node and its controller (role slurm_common): a node whose
Slurm release differs from the controller's stops before it joins, with one line."""

import re

# What scontrol says when slurmctld cannot read its messages: a release too far from the
# controller's (Slurm talks only to the two releases before its own). The older and newer wording.
_PROTOCOL_ERRORS = ("Incompatible versions of client and server code", "Protocol version has changed")


def slurm_release(text):
    """'22.05' and the full '22.05.8' from `slurmd -V` ('slurm 22.05.8') or `scontrol show config`
    (SLURM_VERSION = 22.05.8); (None, None) when there is none."""
    match = re.search(r"SLURM_VERSION\s*=\s*(\d+)\.(\d+)(\S*)", text) or re.search(r"(\d+)\.(\d+)(\S*)", text)
    if not match:
        return None, None
    return "%s.%s" % (match.group(1), match.group(2)), "%s.%s%s" % match.groups()


def slurm_version_mismatch(local_text, controller_config, node="this node", prefix="/opt/slurm", daemon="slurmd"):
    """'' when this node's Slurm release (major.minor) is the controller's, or when either is
    unknown (nothing to compare); else the one line that says which differ and what to do. A
    controller that refuses this node's protocol is a mismatch too (its release is then unknown)."""
    local, local_full = slurm_release(str(local_text))
    refused = next((error for error in _PROTOCOL_ERRORS if error.lower() in str(controller_config).lower()), None)
    if local is not None and refused and "SLURM_VERSION" not in str(controller_config):
        return ("slurm_common: %s runs Slurm %s (%s) and the controller's slurmctld refuses its messages (\"%s\"): "
                "it runs another Slurm release, so %s is stopped. Set slurm_common_hyperpod_version to the "
                "controller's release (an image's %s-<release>), or run the controller's release on every node."
                % (node, local_full, prefix, refused, daemon, prefix))
    remote, remote_full = slurm_release(str(controller_config)) if "SLURM_VERSION" in str(controller_config) else (None, None)
    if local is None or remote is None or local == remote:
        return ""
    return ("slurm_common: %s runs Slurm %s (%s) but the controller runs %s: it would join with another "
            "Slurm release, so %s is stopped. Set slurm_common_hyperpod_version to %s (the image's "
            "%s-%s), or run the controller's release on every node." % (node, local_full, prefix, remote_full,
                                                                       daemon, remote, prefix, remote))


class FilterModule:
    """Slurm version checks."""

    def filters(self):
        return {"slurm_version_mismatch": slurm_version_mismatch}
