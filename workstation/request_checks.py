"""Checks of the CreateCluster request itself: the API's model, instance group names,
LifeCycleConfig against the bundle, FSx storage, orchestration settings."""

import re

from workstation import request_model
from workstation.problems import model

ENTRY_POINT = "on_create.sh"
S3_URI_RE = re.compile(r"^s3://([^/]+)(?:/(.*))?$")
# S3's rules for bucket names (the ones that apply to new buckets).
BUCKET_RE = re.compile(r"^(?!\d+\.\d+\.\d+\.\d+$)(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class Request:
    """create_cluster.json: the whole request, or only its InstanceGroups array."""

    def __init__(self, path, data):
        self.path = str(path)
        self.whole = isinstance(data, dict)
        self.data = data if self.whole else {"InstanceGroups": data}
        raw = self.data.get("InstanceGroups")
        self.raw_groups = [g if isinstance(g, dict) else {} for g in raw] if isinstance(raw, list) else []
        self.groups = []  # model.Group, for the groups with a usable name

    @property
    def api_driven(self):
        return any("SlurmConfig" in g for g in self.raw_groups)

    def slurm_orchestrator(self):
        orchestrator = self.data.get("Orchestrator")
        return orchestrator.get("Slurm") if isinstance(orchestrator, dict) else None


def check_request_model(request, problems):
    data = request.data if request.whole else {"ClusterName": "x", **request.data}  # the array has no name
    for field, problem, fix in request_model.check(data):
        problems.error(request.path, field, problem, fix)


def read_groups(request, problems):
    seen = {}
    for i, g in enumerate(request.raw_groups):
        name, count = g.get("InstanceGroupName"), g.get("InstanceCount")
        if not isinstance(name, str) or not name:
            continue  # the model check reported it
        if name in seen:
            problems.error(request.path, f"InstanceGroups[{i}].InstanceGroupName",
                           f"instance group {name!r} appears twice (also InstanceGroups[{seen[name]}])",
                           "give each instance group its own name")
            continue
        seen[name] = i
        # A count the model refused counts as 1 here: one problem is enough.
        count = count if isinstance(count, int) and not isinstance(count, bool) and count >= 0 else 1
        request.groups.append(model.Group(name, i, g, [], name_key="InstanceGroupName", count=count))



def check_lifecycle(request, bundle, problems):
    uris = {}
    for i, g in enumerate(request.raw_groups):
        field = f"InstanceGroups[{i}].LifeCycleConfig"
        lcc = g.get("LifeCycleConfig")
        if lcc is None:
            problems.error(request.path, field, "missing: the group's nodes would not run this bundle",
                           f'set {{"SourceS3Uri": "s3://...", "OnCreate": "{ENTRY_POINT}"}} '
                           "(bootstrap.py upload prints it)")
            continue
        if not isinstance(lcc, dict):
            continue  # the model check reported it
        check_on_create(request, bundle, field, lcc.get("OnCreate"), problems)
        uri = lcc.get("SourceS3Uri")
        if uri is None:
            problems.error(request.path, field + ".SourceS3Uri", "missing", "set it to the S3 prefix that "
                           "bootstrap.py upload printed")
        elif isinstance(uri, str):
            if uri not in uris:  # once per URI, at the first group naming it
                check_source_uri(request, field + ".SourceS3Uri", uri, bundle, problems)
            uris.setdefault(uri, []).append(i)
    if len(uris) > 1:
        listed = "; ".join(f"{u} ({', '.join(f'InstanceGroups[{i}]' for i in idx)})" for u, idx in uris.items())
        problems.warning(request.path, "InstanceGroups[].LifeCycleConfig.SourceS3Uri",
                         f"the groups name different bundles: {listed}",
                         "use the one prefix bootstrap.py upload printed for every group")


def check_on_create(request, bundle, field, on_create, problems):
    if on_create is None:
        problems.error(request.path, field + ".OnCreate", "missing: HyperPod would run no script of the bundle",
                       f"set it to {ENTRY_POINT}")
    elif isinstance(on_create, str) and on_create not in bundle.files:
        top = sorted({f.split("/")[0] for f in bundle.files if "/" not in f})
        problems.error(request.path, field + ".OnCreate", f"{on_create!r} is not a file of the bundle "
                       f"({', '.join(top)})", f"set it to {ENTRY_POINT}")
    elif isinstance(on_create, str) and on_create != ENTRY_POINT:
        problems.warning(request.path, field + ".OnCreate", f"{on_create!r} is in the bundle, but its entry point "
                         f"is {ENTRY_POINT}", f"set it to {ENTRY_POINT}")


def check_source_uri(request, field, uri, bundle, problems):
    m = S3_URI_RE.match(uri)
    if not m:
        problems.error(request.path, field, f"{uri!r} is not an s3:// URI",
                       "use the s3://bucket/prefix/ that bootstrap.py upload printed")
        return
    bucket, prefix = m.group(1), (m.group(2) or "").strip("/")
    if not BUCKET_RE.match(bucket):
        problems.error(request.path, field, f"{bucket!r} is not a valid S3 bucket name",
                       "bucket names are 3-63 lowercase letters, digits, '.' and '-', starting and ending with a "
                       "letter or digit")
        return
    if not bucket.startswith("sagemaker-"):
        problems.warning(request.path, field, f"bucket {bucket!r} does not start with sagemaker-: the managed policy "
                         "AmazonSageMakerClusterInstanceRolePolicy reads only sagemaker-* buckets",
                         "use a sagemaker-* bucket, or grant the ExecutionRole s3:ListBucket and s3:GetObject on it")
    last = prefix.rsplit("/", 1)[-1]
    if re.fullmatch(r"[0-9a-f]{12}", last) and last != bundle.content_hash():
        problems.warning(request.path, field, f"names bundle {last}, but this bundle is {bundle.content_hash()}",
                         "run bootstrap.py upload and use the SourceS3Uri it prints")


def check_storage_configs(request, pp_storage, problems):
    fsx_groups = []
    for i, g in enumerate(request.raw_groups):
        configs = g.get("InstanceStorageConfigs")
        if not isinstance(configs, list):
            continue
        for kind in ("FsxLustreConfig", "FsxOpenZfsConfig"):
            where = [j for j, c in enumerate(configs) if isinstance(c, dict) and kind in c]
            if where:
                fsx_groups.append(i)
            if len(where) > 1:
                problems.error(request.path, f"InstanceGroups[{i}].InstanceStorageConfigs[{where[1]}].{kind}",
                               f"a second {kind} in the group", "HyperPod mounts at most one of each; keep one")
    if request.whole and "VpcConfig" not in request.data and (fsx_groups or (pp_storage or {}).get("fsx_dns_name")):
        problems.error(request.path, "VpcConfig", "missing, but the cluster mounts FSx: HyperPod's own VPC cannot "
                       "reach your file system", "add VpcConfig with the subnets and security groups of the FSx VPC")


def check_orchestration(request, problems):
    if not request.whole:
        return
    orchestrator = request.data.get("Orchestrator")
    if isinstance(orchestrator, dict) and "Eks" in orchestrator:
        problems.error(request.path, "Orchestrator.Eks", "this bundle sets up Slurm, not EKS",
                       "remove Orchestrator.Eks")
    slurm = request.slurm_orchestrator()
    strategy = slurm.get("SlurmConfigStrategy") if isinstance(slurm, dict) else None
    continuous = request.data.get("NodeProvisioningMode") == "Continuous"
    if continuous and not request.api_driven:
        problems.error(request.path, "NodeProvisioningMode", "Continuous provisioning needs API-driven SlurmConfig",
                       "give every instance group a SlurmConfig, or remove NodeProvisioningMode")
    if continuous and strategy is not None:
        problems.error(request.path, "Orchestrator.Slurm.SlurmConfigStrategy", "set with Continuous provisioning, "
                       "which runs in Merge mode only and refuses any strategy", "remove SlurmConfigStrategy")
    elif request.api_driven and not continuous and strategy is None:
        problems.warning(request.path, "Orchestrator.Slurm.SlurmConfigStrategy", "not set: AWS's documents disagree "
                         "on the default (Managed or Merge)", "set it: Managed, Merge or Overwrite")
