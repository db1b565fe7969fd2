"""The checks of single fields that reach a node: names, addresses, ARNs, paths. Each value the
roles write into a file, a command or SQL is checked against the whole of a pattern here.

Every pattern is matched with re.fullmatch: `^...$` with re.match lets a trailing newline through
(`$` matches before it), which would split the fstab line or the config line the value lands in.
"""

import ipaddress
import posixpath
import re

from ansible_collections.hyperpod.slurm.plugins.plugin_utils.inputs import ConfigError, shown, want

# HyperPod's own pattern for cluster and instance group names (at most 63 characters); instances
# are <group>-<n>, so 63, '-' and a number of up to 6 digits. Anything else would break Ansible's
# --limit (',' ':'), slurm.conf lines and host names.
HYPERPOD_NAME_RE = re.compile(r"[A-Za-z0-9](-*[A-Za-z0-9])*")
HYPERPOD_NAME_MAX, INSTANCE_NAME_MAX = 63, 70
# Names Ansible gives a meaning: a host named `all` makes `--limit all` (bootstrap.py limits the run
# to this node's name) select every host, each then converged on this node.
ANSIBLE_RESERVED_NAMES = {"all", "ungrouped", "localhost"}
NAME_FIX = ("use letters, digits and '-' only, starting and ending with a letter or digit "
            "(as HyperPod names them)")

# ml.<family>.<size>, as CreateCluster takes them: ml.p5.48xlarge, ml.p6e-gb200.36xlarge.
INSTANCE_TYPE_RE = re.compile(r"ml\.[a-z0-9][a-z0-9-]{0,30}\.[a-z0-9]{1,30}")
# EC2 ids have 8 or 17 hex digits; a few more are allowed for ids of a later format.
INSTANCE_ID_RE = re.compile(r"i-[0-9a-f]{8,32}")
_REGION = r"[a-z]{2}(-[a-z]+)+-\d{1,2}"
_PARTITION = r"arn:aws(-[a-z]+)*"
CLUSTER_ARN_RE = re.compile(rf"{_PARTITION}:sagemaker:{_REGION}:\d{{12}}:cluster/[a-z0-9]{{1,64}}")
SECRET_ARN_RE = re.compile(rf"{_PARTITION}:secretsmanager:{_REGION}:\d{{12}}:secret:[A-Za-z0-9/_+=.@-]{{1,512}}")
SNS_ARN_RE = re.compile(rf"{_PARTITION}:sns:{_REGION}:\d{{12}}:[A-Za-z0-9_-]{{1,256}}(\.fifo)?")

DNS_NAME_RE = re.compile(r"([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}")
DNS_NAME_MAX = 253
# FSx names as CreateCluster and `aws fsx describe-file-systems` show them.
FSX_DNS_RE = re.compile(r"(fs|fc)i?-[0-9a-f]{8,32}\.fsx\.[a-z]{2}(-[a-z]+)+-\d{1,2}\.amazonaws\.com(\.cn)?")
FSX_MOUNTNAME_RE = re.compile(r"[A-Za-z0-9_-]{1,8}")
# A MySQL/MariaDB user name that needs no quoting in slurmdbd.conf or in the setup SQL (RDS allows
# letters, digits and '_', starting with a letter; MySQL at most 32 characters).
DATABASE_USER_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")

# Paths: POSIX's portable file name characters only (no space, quote, ':' of /etc/passwd, or '$').
PATH_RE = re.compile(r"/[A-Za-z0-9._/-]*")
PATH_MAX = 255
# Folders of the system and of HyperPod's image: a user's home or Slurm's shared state there would
# hand the folder to that user, or mix with the node's own files.
THIS_NETWORK = ipaddress.IPv4Network("0.0.0.0/8")  # "this host on this network": no peer's address
SYSTEM_DIRS = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/lost+found", "/opt",
               "/proc", "/root", "/run", "/sbin", "/snap", "/srv", "/sys", "/tmp", "/usr", "/var")


def full_match(path, fld, value, pattern, what, fix, most=None):
    """A string field that must match the whole of pattern (and be at most `most` long)."""
    want(path, fld, value, str, f"{what} (a string)")
    if (most is not None and len(value) > most) or not pattern.fullmatch(value):
        too_long = most is not None and len(value) > most
        problem = f"is longer than {most} characters" if too_long else f"is not {what}"
        raise ConfigError(path, fld, f"{shown(value)} {problem}", fix)
    return value


def hyperpod_name(path, fld, value, what, most=HYPERPOD_NAME_MAX, ansible_name=False):
    """A name HyperPod gave (cluster, instance group, instance), checked against its pattern; with
    ansible_name, also not one of the names Ansible reserves."""
    want(path, fld, value, str, f"the {what} (a string)")
    if len(value) > most:
        raise ConfigError(path, fld, f"{shown(value)} is longer than {most} characters",
                          f"HyperPod's {what}s have at most {most}; regenerate the file")
    if not HYPERPOD_NAME_RE.fullmatch(value):
        raise ConfigError(path, fld, f"{shown(value)} is not a valid {what}", NAME_FIX)
    if ansible_name and value.lower() in ANSIBLE_RESERVED_NAMES:
        raise ConfigError(path, fld, f"{shown(value)} is a name Ansible reserves "
                          f"({', '.join(sorted(ANSIBLE_RESERVED_NAMES))})", "rename the instance group")
    return value


def ipv4(path, fld, value):
    """A node's IPv4 address, in the normal dotted form."""
    fix = "HyperPod writes dotted IPv4 addresses like 10.1.2.3; fix or regenerate the file"
    try:
        if not isinstance(value, str):  # IPv4Address takes integers too
            raise TypeError
        ip = ipaddress.IPv4Address(value)  # refuses spaces, newlines, non-ASCII digits, leading zeros
    except (ipaddress.AddressValueError, ValueError, TypeError):
        problem = "missing" if value is None else f"{shown(value)} is not an IPv4 address"
        raise ConfigError(path, fld, problem, fix) from None
    # Every node has 127.0.0.1: a loopback address would make every node believe it is this one.
    if ip.is_loopback or ip.is_unspecified or ip.is_multicast or ip.is_reserved or ip in THIS_NETWORK:
        raise ConfigError(path, fld, f"{shown(value)} is not a node's address (loopback, unspecified, multicast or "
                          "reserved)", fix)
    # 169.254.169.254 is the instance metadata service: link-local addresses are no peer's.
    if ip.is_link_local:
        raise ConfigError(path, fld, f"{shown(value)} is a link-local address (169.254.0.0/16), not a node's", fix)
    return str(ip)


def path_problem(value):
    """Why value is not a plain absolute path outside the system folders, or None. A trailing '/'
    is allowed (and dropped by the caller)."""
    if not value.startswith("/"):
        return "is not an absolute path"
    if len(value) > PATH_MAX:
        return f"is longer than {PATH_MAX} characters"
    if not PATH_RE.fullmatch(value):
        return "holds characters other than letters, digits, '.', '_', '-' and '/'"
    trimmed = value.rstrip("/") or "/"
    if posixpath.normpath(trimmed) != trimmed or trimmed.startswith("//"):
        return "is not a normalized path (no '.', '..' or '//' in it)"
    for system in SYSTEM_DIRS:
        if trimmed == system:
            return "is a system folder"
        if trimmed.startswith(system + "/"):
            return f"is inside the system folder {system}"
    return "is the root folder" if trimmed == "/" else None


def is_below(path, folder):
    """Whether path is folder or inside it (both normalized, without a trailing '/')."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")
