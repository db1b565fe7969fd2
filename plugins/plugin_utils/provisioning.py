"""The settings of provisioning_parameters.json beyond node roles: the workload manager, FSx file
systems and multi-head (slurm_configurations), checked the way `validate` and every node check them.

Each value lands in a file a role writes (fstab, slurmdbd.conf, SQL run as root): checked whole."""

import difflib

from ansible_collections.hyperpod.slurm.plugins.plugin_utils.fields import (DATABASE_USER_RE, DNS_NAME_MAX, DNS_NAME_RE,
                                                                           FSX_DNS_RE, FSX_MOUNTNAME_RE, SECRET_ARN_RE,
                                                                           SNS_ARN_RE, full_match, path_problem)
from ansible_collections.hyperpod.slurm.plugins.plugin_utils.inputs import (ConfigError, optional_string, shown,
                                                                           want)

FSX_DNS_FIX = ("use the file system's DNSName (aws fsx describe-file-systems), "
               "like fs-0123456789abcdef0.fsx.us-west-2.amazonaws.com")
FSX_MOUNTNAME_FIX = ("use the file system's LustreConfiguration.MountName (aws fsx describe-file-systems): "
                     "1-8 letters, digits, '_' or '-', like abcdefgh")
# slurm_configurations' keys (HyperPod's multi-head setup), each with its check: (pattern, what, fix).
# Any other key is an error: a misspelt slurm_database_endpoint would quietly turn RDS accounting
# into a local MariaDB.
SLURM_CONFIGURATIONS = {
    "slurm_database_endpoint": (DNS_NAME_RE, "a DNS name", "use the database's host name, like "
                                "mydb.cluster-abc.us-west-2.rds.amazonaws.com (no scheme or port)"),
    "slurm_database_secret_arn": (SECRET_ARN_RE, "a Secrets Manager secret ARN", "use the secret's ARN, like "
                                  "arn:aws:secretsmanager:us-west-2:111122223333:secret:name-AbCdEf"),
    "slurm_database_user": (DATABASE_USER_RE, "a database user name", "use 1-32 letters, digits or '_', starting "
                            "with a letter (it goes into slurmdbd.conf and SQL unquoted)"),
    "slurm_shared_directory": (None, "a folder", "use an absolute folder on the shared file system, like /fsx"),
    "slurm_sns_arn": (SNS_ARN_RE, "an SNS topic ARN", "use the topic's ARN, like "
                      "arn:aws:sns:us-west-2:111122223333:slurm-events"),
}
# The fields read, as errors name them (tests/corpus checks that a bad input of each is refused).
FIELDS = ("workload_manager", "fsx_dns_name", "fsx_mountname", "fsx_openzfs_dns_name", "slurm_configurations",
          "slurm_configurations.<unknown key>") + tuple("slurm_configurations." + k for k in SLURM_CONFIGURATIONS)


def check_workload_manager(path, pp, problems):
    manager = pp.get("workload_manager")
    if manager != "slurm":
        problems.append(ConfigError(path, "workload_manager", "missing" if manager is None else
                                    f"{shown(manager)} is not supported", 'set "workload_manager": "slurm"'))


def check_storage(path, pp, problems):
    """FSx and multi-head settings of provisioning_parameters.json, as Cluster fields."""
    fields = {}
    for key, what in (("fsx_dns_name", "the FSx for Lustre DNS name (a string)"),
                      ("fsx_mountname", "the FSx for Lustre mount name (a string)"),
                      ("fsx_openzfs_dns_name", "the FSx for OpenZFS DNS name (a string)")):
        try:
            fields[key] = optional_string(path, key, pp.get(key), what)
        except ConfigError as e:
            problems.append(e)
            fields[key] = ""
    dns, mnt = fields["fsx_dns_name"], fields["fsx_mountname"]
    if bool(dns) != bool(mnt):
        have, lack = ("fsx_dns_name", "fsx_mountname") if dns else ("fsx_mountname", "fsx_dns_name")
        problems.append(ConfigError(path, lack, f"{have} is set but {lack} is not", "set both or neither"))
    for key in ("fsx_dns_name", "fsx_openzfs_dns_name"):
        if fields[key] and (len(fields[key]) > DNS_NAME_MAX or not FSX_DNS_RE.fullmatch(fields[key])):
            problems.append(ConfigError(path, key, f"{shown(fields[key])} is not an FSx DNS name", FSX_DNS_FIX))
    if mnt and not FSX_MOUNTNAME_RE.fullmatch(mnt):
        problems.append(ConfigError(path, "fsx_mountname", f"{shown(mnt)} is not an FSx for Lustre mount name",
                                    FSX_MOUNTNAME_FIX))
    fields["slurm_configurations"] = {}
    if pp.get("slurm_configurations") is not None:
        try:
            fields["slurm_configurations"] = slurm_configurations(path, pp)
        except ConfigError as e:
            problems.append(e)
    return fields


def slurm_configurations(path, pp):
    """Multi-head settings: the accounting role's rds backend needs the endpoint and the secret together,
    and finds out only after other roles have changed the node; refuse the pair half given here."""
    sc = want(path, "slurm_configurations", pp.get("slurm_configurations"), dict, "an object")
    f = "slurm_configurations."
    for key, value in sc.items():
        if key not in SLURM_CONFIGURATIONS:
            close = difflib.get_close_matches(key, SLURM_CONFIGURATIONS, n=1)
            raise ConfigError(path, f + (key if key.isidentifier() and len(key) <= 64 else shown(key)),
                              "is not a setting of slurm_configurations",
                              f"did you mean {close[0]}?" if close else
                              f"remove it (known: {', '.join(SLURM_CONFIGURATIONS)})")
        want(path, f + key, value, str, f"{SLURM_CONFIGURATIONS[key][1]} (a string)")
    endpoint, arn = sc.get("slurm_database_endpoint"), sc.get("slurm_database_secret_arn")
    if bool(endpoint) != bool(arn):
        have, lack = ("slurm_database_endpoint", "slurm_database_secret_arn") if endpoint else \
            ("slurm_database_secret_arn", "slurm_database_endpoint")
        raise ConfigError(path, f + lack, f"{have} is set but {lack} is not",
                          "set both (the database's host name and its Secrets Manager secret ARN) or neither")
    for key, (pattern, what, fix) in SLURM_CONFIGURATIONS.items():  # in this order, whatever the file's
        value = sc.get(key, "")
        if value == "":
            continue  # unset, as HyperPod's sample files leave optional keys (dropped below)
        if pattern is None:
            problem = path_problem(value)
            if problem:
                raise ConfigError(path, f + key, f"{shown(value)} {problem}", fix)
        else:
            full_match(path, f + key, value, pattern, what, fix, most=DNS_NAME_MAX if pattern is DNS_NAME_RE else None)
    # An empty key is no key: the accounting role picks its backend by which keys exist.
    sc = {key: value for key, value in sc.items() if value != ""}
    if "slurm_shared_directory" in sc:
        sc["slurm_shared_directory"] = sc["slurm_shared_directory"].rstrip("/") or "/"
    return sc


# What multi-head needs, each with the fix: the controllers share slurmctld's state on the shared
# file system, and the job records in a database both reach (the rds backend).
MULTI_HEAD_NEEDS = (
    ("slurm_database_endpoint", "the accounting database's host name (Amazon RDS: both controllers write "
     "job records to one database)"),
    ("slurm_database_secret_arn", "the Secrets Manager secret holding that database's password"),
    ("slurm_shared_directory", "a folder on the shared file system (like /fsx) for the controllers' shared state"),
)


def check_multi_head(path, sc, controllers, mode="legacy"):
    """More than one controller instance in legacy mode: slurm_configurations must give the rds accounting
    backend and the shared directory, or the controllers run as two clusters with separate state (the
    first failover loses every job). Returns the first ConfigError, or None. API-driven mode is left to
    the platform, which takes the accounting database from CreateCluster's own Slurm settings."""
    if len(controllers) < 2 or mode != "legacy":
        return None
    shown_names = ", ".join(controllers[:3]) + (", ..." if len(controllers) > 3 else "")
    for key, what in MULTI_HEAD_NEEDS:
        if not sc.get(key):
            return ConfigError(path, "slurm_configurations." + key,
                               f"missing, and the controller group has {len(controllers)} instances ({shown_names})",
                               f"set it to {what}, or run one controller instance")
    return None
