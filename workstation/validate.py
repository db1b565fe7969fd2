"""bootstrap.py validate: a CreateCluster request checked against this bundle before the cluster
exists, with every problem listed, each naming the file, the field and a fix.

What it checks: the request against the API's model (workstation/request_model.py); the Slurm
roles of its instance groups, from provisioning_parameters.json (legacy) or SlurmConfig
(API-driven), with the inventory plugin's own checks; instance counts; LifeCycleConfig against
the bundle; FSx settings; the group_vars against the roles' argument specs
(workstation/role_variables.py); with --aws, subnets, security groups and FSx file systems in
the account (workstation/aws_checks.py).
"""

import importlib.util
import json
import os
import re
import sys
from pathlib import Path

from workstation import bundle as bundle_files
from workstation import request_model, role_variables

ROOT = Path(__file__).resolve().parent.parent
ENTRY_POINT = "on_create.sh"
S3_URI_RE = re.compile(r"^s3://([^/]+)(?:/(.*))?$")
# S3's rules for bucket names (the ones that apply to new buckets).
BUCKET_RE = re.compile(r"^(?!\d+\.\d+\.\d+\.\d+$)(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
SECRET_ARN_RE = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$")
# HyperPod's own error for a request that mixes both ways of declaring node types.
BOTH_ROLE_SOURCES = "cannot include both a SLURM Orchestrator Config and a provisioning_parameters.json"


def _load_plugin():
    """The inventory plugin holds the input checks; loaded by path, as bootstrap.py does."""
    module = sys.modules.get("hyperpod_inventory")
    if module is None:
        spec = importlib.util.spec_from_file_location("hyperpod_inventory", ROOT / "inventory_plugins" / "hyperpod.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return module


hp = _load_plugin()


class ConfigWarning(hp.ConfigError):
    """Worth a look, but the cluster would work."""


def severity(problem):
    return "warning" if isinstance(problem, ConfigWarning) else "error"


class Problems(list):
    """Every problem found; a field with an error gets no second one (the first found, the API's own
    rule, is the one to fix first)."""

    def add(self, problem):
        if not any(p.path == problem.path and p.field == problem.field and severity(p) == "error" for p in self):
            self.append(problem)

    def error(self, path, field, problem, fix):
        self.add(hp.ConfigError(path, field, problem, fix))

    def warning(self, path, field, problem, fix):
        self.add(ConfigWarning(path, field, problem, fix))

    def extend_from(self, problems):
        for p in problems:
            self.add(p)

    @property
    def errors(self):
        return [p for p in self if severity(p) == "error"]


# ---- the request ----------------------------------------------------------------------------------

class Request:
    """create_cluster.json: the whole request, or only its InstanceGroups array."""

    def __init__(self, path, data):
        self.path = str(path)
        self.whole = isinstance(data, dict)
        self.data = data if self.whole else {"InstanceGroups": data}
        raw = self.data.get("InstanceGroups")
        self.raw_groups = [g if isinstance(g, dict) else {} for g in raw] if isinstance(raw, list) else []
        self.groups = []  # hp.Group, for the groups with a usable name

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
        request.groups.append(hp.Group(name, i, g, [], name_key="InstanceGroupName", count=count))


# ---- Slurm roles -----------------------------------------------------------------------------------

def check_api_driven(request, bundle, pp_arg, problems):
    """SlurmConfig on every group; no provisioning_parameters.json anywhere; node_roles.json agreeing."""
    given = [pp_arg] if pp_arg and not _same_file(pp_arg, bundle.pp) else []
    for pp in given + ([bundle.pp] if bundle.pp else []):
        where = "in the bundle" if pp == bundle.pp else "given"
        problems.error(pp, None, f"{where}, but the request is API-driven (SlurmConfig on its instance groups): "
                       f"CreateCluster and UpdateCluster fail on both (\"{BOTH_ROLE_SOURCES}\")",
                       "delete it from the bundle and rebuild; node types come from SlurmConfig"
                       if pp == bundle.pp else "leave --provisioning-parameters out")
    found = []
    roles = hp.roles_from_slurm_config(request.path, request.groups, found)
    for g in request.groups:
        if "SlurmConfig" not in g.raw:
            found.append(hp.ConfigError(request.path, f"InstanceGroups[{g.index}].SlurmConfig",
                                        f"missing on group {g.name!r}, while other groups have one",
                                        "give every instance group a SlurmConfig (NodeType Controller, Login or "
                                        "Compute)"))
            roles.append(hp.Role(g.name, None, None, request.path, f"InstanceGroups[{g.index}].SlurmConfig"))
    by_group = hp.check_roles(roles, request.groups, request.path, "set its SlurmConfig.NodeType", found)
    problems.extend_from(found)
    if bundle.node_roles:
        compare_node_roles(request, bundle.node_roles, by_group, problems)
    for g in request.groups:
        role = by_group.get(g.name)
        if role and role.node_type == "controller" and g.count > 1:
            problems.error(request.path, f"InstanceGroups[{g.index}].InstanceCount",
                           f"{g.count} controllers: HyperPod's API-driven mode has no multi-head setup",
                           "set InstanceCount to 1 (multi-head needs legacy mode's slurm_configurations)")
    return by_group


def compare_node_roles(request, path, by_group, problems):
    """node_roles.json is the nodes' fallback where resource_config.json lacks SlurmConfig: it must
    say what the request says."""
    found = []
    try:
        roles = hp.roles_from_file(str(path), hp.read_json(path), request.groups, request.path, found)
    except hp.ConfigError as e:
        found.append(e)
        roles = []
    problems.extend_from(found)

    def describe(role):
        return role.node_type + (f" in partition {role.partition!r}" if role.partition else "")

    for role in roles:
        wanted = by_group.get(role.group)
        if role.node_type and wanted and wanted.node_type and \
                (role.node_type, role.partition) != (wanted.node_type, wanted.partition):
            problems.error(path, role.field, f"makes {role.group!r} {describe(role)}, the request's SlurmConfig "
                           f"makes it {describe(wanted)}", "make node_roles.json say what the request says")
    named = {r.group for r in roles}
    for g in request.groups:
        if g.name not in named and not found:
            problems.error(path, None, f"gives group {g.name!r} no role, the request's SlurmConfig does",
                           "add it to node_roles.json, or delete node_roles.json")


def _same_file(a, b):
    return bool(a and b) and Path(a).resolve() == Path(b).resolve()


def check_legacy_role_file(bundle, pp_arg, problems):
    """Nodes read the bundle's provisioning_parameters.json; one given elsewhere must be that one."""
    if not pp_arg or _same_file(pp_arg, bundle.pp) or not Path(pp_arg).is_file():
        return
    if not bundle.pp:
        problems.error(pp_arg, None, "not in the bundle: nodes read provisioning_parameters.json beside on_create.sh",
                       f"copy it to {bundle.root / 'provisioning_parameters.json'} and rebuild the bundle")
    elif Path(pp_arg).read_bytes() != Path(bundle.pp).read_bytes():
        problems.warning(pp_arg, None, f"differs from the bundle's {bundle.pp}, which nodes read",
                         "copy it over the bundle's, or validate that one")


def check_legacy(request, pp_path, problems):
    """provisioning_parameters.json against the request, with the inventory plugin's checks."""
    if request.slurm_orchestrator() is not None and pp_path:
        problems.error(request.path, "Orchestrator.Slurm", f"set with a provisioning_parameters.json: HyperPod "
                       f"refuses both (\"{BOTH_ROLE_SOURCES}\")",
                       "remove Orchestrator.Slurm (legacy mode), or move to SlurmConfig on every instance group")
    if not pp_path:
        problems.error(request.path, "InstanceGroups[].SlurmConfig", "no instance group has a SlurmConfig, and "
                       "there is no provisioning_parameters.json", "add provisioning_parameters.json to the bundle "
                       "(legacy mode) or give every instance group a SlurmConfig (API-driven mode)")
        return {}, {}
    try:
        pp = hp.read_json(pp_path)
    except hp.ConfigError as e:
        problems.add(e)
        return {}, {}
    found = []
    hp.check_workload_manager(pp_path, pp, found)
    roles = hp.roles_from_file(pp_path, pp, request.groups, request.path, found)
    by_group = hp.check_roles(roles, request.groups, request.path, hp.role_file_fix(pp_path), found)
    storage = hp.check_storage(pp_path, pp, found)
    problems.extend_from(found)
    check_multi_head(request, pp_path, by_group, storage["slurm_configurations"], problems)
    return by_group, storage


def check_multi_head(request, pp_path, by_group, slurm, problems):
    controllers = [g for g in request.groups if getattr(by_group.get(g.name), "node_type", None) == "controller"]
    if controllers and controllers[0].count > 1 and not slurm:
        g = controllers[0]
        problems.error(request.path, f"InstanceGroups[{g.index}].InstanceCount",
                       f"{g.count} controllers (multi-head) without slurm_configurations in {Path(pp_path).name}: "
                       "they would have no shared state", "set InstanceCount to 1, or add slurm_configurations "
                       "(slurm_database_endpoint, slurm_database_secret_arn) to provisioning_parameters.json")
    if slurm:
        for key, what in (("slurm_database_endpoint", "the database's host name"),
                          ("slurm_database_secret_arn", "the ARN of the Secrets Manager secret holding its password")):
            value = slurm.get(key)
            if not isinstance(value, str) or not value:
                problems.error(pp_path, f"slurm_configurations.{key}", "missing" if value is None else
                               f"{value!r} is not usable", f"set it to {what}")
        arn = slurm.get("slurm_database_secret_arn")
        if isinstance(arn, str) and arn and not SECRET_ARN_RE.match(arn):
            problems.error(pp_path, "slurm_configurations.slurm_database_secret_arn",
                           f"{arn!r} is not a Secrets Manager secret ARN",
                           "use the secret's ARN, like arn:aws:secretsmanager:us-west-2:111122223333:secret:NAME")


def check_counts(request, by_group, problems):
    for g in request.groups:
        role = by_group.get(g.name)
        if g.count == 0 and role and role.node_type in ("compute", "login"):
            problems.warning(request.path, f"InstanceGroups[{g.index}].InstanceCount",
                             f"group {g.name!r} starts with no instances",
                             "fine if you scale it up later; else set InstanceCount >= 1")


# ---- LifeCycleConfig, storage, orchestration --------------------------------------------------------

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
    if bundle.short_hash and re.fullmatch(r"[0-9a-f]{12}", last) and last != bundle.short_hash:
        problems.warning(request.path, field, f"names bundle {last}, but this bundle is {bundle.short_hash}",
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


# ---- the bundle -----------------------------------------------------------------------------------

def _shown(path):
    """A path as people like to read it: relative to the working directory when inside it."""
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


class Bundle:
    """The bundle being validated: a checkout, or a built bundle folder (with MANIFEST.json)."""

    def __init__(self, root):
        self.root = Path(_shown(root))
        manifest = self.root / bundle_files.MANIFEST
        if manifest.is_file():
            self.files = set(json.loads(manifest.read_text())["files"])
            self.short_hash = json.loads(manifest.read_text())["content_hash"][:12]
        else:
            self.files = set(bundle_files.source_files(self.root))
            self.short_hash = None  # computed only when a SourceS3Uri names a hash
        self.pp = self._role_file("provisioning_parameters.json")
        self.node_roles = self._role_file("node_roles.json")

    def _role_file(self, name):
        return str(self.root / name) if name in self.files else None

    def content_hash(self):
        if self.short_hash is None:
            self.short_hash = bundle_files.collect(self.root).short_hash
        return self.short_hash


def validate(create_cluster, provisioning_parameters=None, bundle_dir=ROOT, aws=False):
    """Every problem of the request, the role file and the bundle. provisioning_parameters: None for
    the bundle's own, '' for none."""
    problems = Problems()
    bundle = Bundle(bundle_dir)
    try:
        request = Request(create_cluster, hp.read_json(create_cluster, array_ok=True))
    except hp.ConfigError as e:
        problems.add(e)
        return problems
    check_request_model(request, problems)
    read_groups(request, problems)
    if any(re.search(r"/[0-9a-f]{12}/?$", str((g.get("LifeCycleConfig") or {}).get("SourceS3Uri", "")))
           for g in request.raw_groups if isinstance(g.get("LifeCycleConfig"), dict)):
        bundle.content_hash()
    pp, pp_storage = None, {}
    if bundle.pp and bundle.node_roles:
        problems.error(bundle.node_roles, None, f"in the bundle together with {bundle.pp}: nodes refuse both",
                       "keep provisioning_parameters.json (legacy mode) or node_roles.json (API-driven mode)")
    if request.api_driven:
        by_group = check_api_driven(request, bundle, provisioning_parameters or None, problems)
    else:
        pp = bundle.pp if provisioning_parameters is None else provisioning_parameters or None
        check_legacy_role_file(bundle, pp, problems)
        by_group, pp_storage = check_legacy(request, pp, problems)
    check_counts(request, by_group, problems)
    check_lifecycle(request, bundle, problems)
    check_storage_configs(request, pp_storage, problems)
    check_orchestration(request, problems)
    role_variables.check(bundle.root, problems.error, problems.warning)
    if aws:
        from workstation import aws_checks
        aws_checks.check(request, pp, pp_storage, problems)
    return problems


def as_json(problems):
    return [{"severity": severity(p), "file": p.path, "field": p.field, "problem": p.problem, "fix": p.fix,
             "message": str(p)} for p in problems]


def main(args):
    problems = validate(args.create_cluster, args.provisioning_parameters, Path(args.bundle or ROOT), args.aws)
    if args.json:
        print(json.dumps(as_json(problems), indent=2))
    else:
        for p in problems:
            print(f"{severity(p)}: {p}")
        errors, warnings = len(problems.errors), len(problems) - len(problems.errors)
        print(f"{args.create_cluster}: {errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
              if problems else f"{args.create_cluster}: no problems")
    return 1 if problems.errors else 0
