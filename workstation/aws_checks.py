"""validate --aws: what only the account can tell. The subnets are private, a
security group lets the nodes talk to each other (EFA needs all traffic to and from itself), and
the FSx file systems exist with the DNS and mount names given."""

import boto3
from botocore.exceptions import BotoCoreError, ClientError


def check(request, pp_path, pp_storage, problems, session=None):
    session = session or boto3.Session()
    try:
        if request.whole and isinstance(request.data.get("VpcConfig"), dict):
            check_vpc(session.client("ec2"), request, problems)
        check_fsx(session.client("fsx"), request, pp_path, pp_storage, problems)
    except (BotoCoreError, ClientError) as e:
        problems.error(request.path, None, f"could not check in AWS: {' '.join(str(e).split())}",
                       "check your credentials and region (AWS_PROFILE, AWS_REGION), or leave --aws out")


def _ids(values):
    return [v for v in values or [] if isinstance(v, str)]


def check_vpc(ec2, request, problems):
    vpc = request.data["VpcConfig"]
    subnets = _ids(vpc.get("Subnets"))
    if subnets:
        found = {s["SubnetId"]: s for s in _described(ec2.describe_subnets, "Subnets", "SubnetIds", subnets,
                                                      "InvalidSubnetID.NotFound", request, "VpcConfig.Subnets",
                                                      problems)}
        for i, subnet in enumerate(subnets):
            if found.get(subnet, {}).get("MapPublicIpOnLaunch"):
                problems.error(request.path, f"VpcConfig.Subnets[{i}]", f"{subnet} is a public subnet "
                               "(MapPublicIpOnLaunch): cluster creation fails on it",
                               "use private subnets that reach the internet or VPC endpoints through NAT")
    groups = _ids(vpc.get("SecurityGroupIds"))
    if groups:
        described = _described(ec2.describe_security_groups, "SecurityGroups", "GroupIds", groups,
                               "InvalidGroup.NotFound", request, "VpcConfig.SecurityGroupIds", problems)
        if described and not any(_talks_to_itself(sg) for sg in described):
            problems.error(request.path, "VpcConfig.SecurityGroupIds", f"none of {', '.join(groups)} allows all "
                           "traffic to and from itself: nodes (and EFA) cannot reach each other",
                           "add an inbound and an outbound rule: all traffic, source and destination the security "
                           "group itself")


def _described(call, key, id_param, ids, not_found, request, field, problems):
    try:
        return call(**{id_param: ids})[key]
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") != not_found:
            raise
        problems.error(request.path, field, " ".join(e.response["Error"].get("Message", "").split()),
                       "use ids from this account and region (check AWS_REGION)")
        return []


def _talks_to_itself(sg):
    def to_self(rules):
        return any(r.get("IpProtocol") == "-1" and any(p.get("GroupId") == sg["GroupId"]
                                                       for p in r.get("UserIdGroupPairs") or [])
                   for r in rules or [])
    return to_self(sg.get("IpPermissions")) and to_self(sg.get("IpPermissionsEgress"))


def _fsx_in_request(request):
    """(file, DNS field, mount name field, kind, DnsName, MountName or None) per FSx config of the request."""
    for i, g in enumerate(request.raw_groups):
        configs = g.get("InstanceStorageConfigs")
        for j, config in enumerate(configs if isinstance(configs, list) else []):
            for kind in ("FsxLustreConfig", "FsxOpenZfsConfig"):
                fsx = config.get(kind) if isinstance(config, dict) else None
                if isinstance(fsx, dict) and isinstance(fsx.get("DnsName"), str):
                    field = f"InstanceGroups[{i}].InstanceStorageConfigs[{j}].{kind}"
                    yield (request.path, field + ".DnsName", field + ".MountName", kind, fsx["DnsName"],
                           fsx.get("MountName"))


def _fsx_in_pp(pp_path, pp_storage):
    pp = pp_storage or {}
    if pp.get("fsx_dns_name"):
        yield (pp_path, "fsx_dns_name", "fsx_mountname", "FsxLustreConfig", pp["fsx_dns_name"],
               pp.get("fsx_mountname"))
    if pp.get("fsx_openzfs_dns_name"):
        yield pp_path, "fsx_openzfs_dns_name", None, "FsxOpenZfsConfig", pp["fsx_openzfs_dns_name"], None


def check_fsx(fsx, request, pp_path, pp_storage, problems):
    for path, field, mount_field, kind, dns, mount_name in \
            list(_fsx_in_request(request)) + list(_fsx_in_pp(pp_path, pp_storage)):
        fs_id = dns.split(".")[0]
        try:
            found = fsx.describe_file_systems(FileSystemIds=[fs_id])["FileSystems"]
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") != "FileSystemNotFound":
                raise
            found = []
        if not found:
            problems.error(path, field, f"no file system {fs_id} in this account and region",
                           "use the DNSName of an existing file system (aws fsx describe-file-systems)")
            continue
        fs = found[0]
        wanted_type = "LUSTRE" if kind == "FsxLustreConfig" else "OPENZFS"
        if fs.get("FileSystemType") != wanted_type:
            problems.error(path, field, f"{fs_id} is an {fs.get('FileSystemType')} file system, not {wanted_type}",
                           "name a file system of that type")
        elif fs.get("DNSName") != dns:
            problems.error(path, field, f"{dns!r} is not the DNS name of {fs_id}", f"did you mean {fs.get('DNSName')}?")
        elif mount_name is not None:
            actual = (fs.get("LustreConfiguration") or {}).get("MountName")
            if actual and actual != mount_name:
                problems.error(path, mount_field, f"{mount_name!r} is not the mount name of {fs_id}",
                               f"set it to {actual}")
