"""The settings of provisioning_parameters.json beyond node roles: the workload manager, FSx file
systems and multi-head (slurm_configurations), checked the way `validate` and every node check them."""

import re

from ansible_collections.hyperpod.slurm.plugins.plugin_utils.inputs import ConfigError, want

DNS_NAME_RE = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}$")
SECRET_ARN_RE = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+")
# FSx names as CreateCluster and `aws fsx describe-file-systems` show them.
FSX_DNS_RE = re.compile(r"^(fs|fc)i?-[0-9a-f]{8,}\.fsx\.[a-z]{2}(-[a-z]+)+-\d+\.amazonaws\.com(\.cn)?$")
FSX_MOUNTNAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,8}$")
FSX_DNS_FIX = ("use the file system's DNSName (aws fsx describe-file-systems), "
               "like fs-0123456789abcdef0.fsx.us-west-2.amazonaws.com")
FSX_MOUNTNAME_FIX = ("use the file system's LustreConfiguration.MountName (aws fsx describe-file-systems): "
                     "1-8 letters, digits, '_' or '-', like abcdefgh")


def check_workload_manager(path, pp, problems):
    manager = pp.get("workload_manager")
    if manager != "slurm":
        problems.append(ConfigError(path, "workload_manager", "missing" if manager is None else
                                    f"{manager!r} is not supported", 'set "workload_manager": "slurm"'))


def check_storage(path, pp, problems):
    """FSx and multi-head settings of provisioning_parameters.json, as Cluster fields."""
    fields = {}
    for key, kind, what in (("fsx_dns_name", str, "the FSx for Lustre DNS name (a string)"),
                            ("fsx_mountname", str, "the FSx for Lustre mount name (a string)"),
                            ("fsx_openzfs_dns_name", str, "the FSx for OpenZFS DNS name (a string)"),
                            ("slurm_configurations", dict, "an object")):
        try:
            fields[key] = want(path, key, pp.get(key) or kind(), kind, what)
        except ConfigError as e:
            problems.append(e)
            fields[key] = kind()
    dns, mnt = fields["fsx_dns_name"], fields["fsx_mountname"]
    if bool(dns) != bool(mnt):
        have, lack = ("fsx_dns_name", "fsx_mountname") if dns else ("fsx_mountname", "fsx_dns_name")
        problems.append(ConfigError(path, lack, f"{have} is set but {lack} is not", "set both or neither"))
    for key in ("fsx_dns_name", "fsx_openzfs_dns_name"):
        if fields[key] and not FSX_DNS_RE.match(fields[key]):
            problems.append(ConfigError(path, key, f"{fields[key]!r} is not an FSx DNS name", FSX_DNS_FIX))
    if mnt and not FSX_MOUNTNAME_RE.match(mnt):
        problems.append(ConfigError(path, "fsx_mountname", f"{mnt!r} is not an FSx for Lustre mount name",
                                    FSX_MOUNTNAME_FIX))
    if fields["slurm_configurations"]:
        try:
            fields["slurm_configurations"] = slurm_configurations(path, pp)
        except ConfigError as e:
            problems.append(e)
    return fields


def slurm_configurations(path, pp):
    """Multi-head settings: the accounting role's rds backend needs the endpoint and the secret together,
    and finds out only after other roles have changed the node; refuse the pair half given here."""
    sc = want(path, "slurm_configurations", pp.get("slurm_configurations") or {}, dict, "an object")
    f = "slurm_configurations."
    for key in ("slurm_database_endpoint", "slurm_database_secret_arn", "slurm_database_user"):
        if key in sc:
            want(path, f + key, sc[key], str, "a string")
    endpoint, arn = sc.get("slurm_database_endpoint"), sc.get("slurm_database_secret_arn")
    if bool(endpoint) != bool(arn):
        have, lack = ("slurm_database_endpoint", "slurm_database_secret_arn") if endpoint else \
            ("slurm_database_secret_arn", "slurm_database_endpoint")
        raise ConfigError(path, f + lack, f"{have} is set but {lack} is not",
                          "set both (the database's host name and its Secrets Manager secret ARN) or neither")
    if endpoint and not DNS_NAME_RE.match(endpoint):
        raise ConfigError(path, f + "slurm_database_endpoint", f"{endpoint!r} is not a DNS name",
                          "use the database's host name, like mydb.cluster-abc.us-west-2.rds.amazonaws.com "
                          "(no scheme or port)")
    if arn and not SECRET_ARN_RE.match(arn):
        raise ConfigError(path, f + "slurm_database_secret_arn", f"{arn!r} is not a Secrets Manager secret ARN",
                          "use the secret's ARN, like arn:aws:secretsmanager:us-west-2:111122223333:secret:name-AbCdEf")
    return sc
