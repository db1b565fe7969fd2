"""The Slurm role of every instance group of the request, from provisioning_parameters.json
(legacy) or SlurmConfig (API-driven), checked with the cluster model's own checks, and the
role files the bundle ships against it."""

from pathlib import Path

from workstation.problems import model

# HyperPod's own error for a request that mixes both ways of declaring node types.
BOTH_ROLE_SOURCES = "cannot include both a SLURM Orchestrator Config and a provisioning_parameters.json"


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
    roles = model.roles_from_slurm_config(request.path, request.groups, found)
    for g in request.groups:
        if "SlurmConfig" not in g.raw:
            found.append(model.ConfigError(request.path, f"InstanceGroups[{g.index}].SlurmConfig",
                                        f"missing on group {g.name!r}, while other groups have one",
                                        "give every instance group a SlurmConfig (NodeType Controller, Login or "
                                        "Compute)"))
            roles.append(model.Role(g.name, None, None, request.path, f"InstanceGroups[{g.index}].SlurmConfig"))
    by_group = model.check_roles(roles, request.groups, request.path, "set its SlurmConfig.NodeType", found)
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
        roles = model.roles_from_file(str(path), model.read_json(path), request.groups, request.path, found)
    except model.ConfigError as e:
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
    """provisioning_parameters.json against the request, with the cluster model's checks."""
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
        pp = model.read_json(pp_path)
    except model.ConfigError as e:
        problems.add(e)
        return {}, {}
    found = []
    model.check_workload_manager(pp_path, pp, found)
    roles = model.roles_from_file(pp_path, pp, request.groups, request.path, found)
    by_group = model.check_roles(roles, request.groups, request.path, model.role_file_fix(pp_path), found)
    storage = model.check_storage(pp_path, pp, found)
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
    elif controllers and controllers[0].count > 1:
        # What each node checks: the database and the shared directory, all of them (the model's).
        g = controllers[0]
        missing = model.check_multi_head(pp_path, slurm, [f"{g.name}-{i}" for i in range(1, g.count + 1)])
        if missing:
            problems.add(missing)
    # The database endpoint and secret themselves: the model's check_storage (nodes run it too).


def check_counts(request, by_group, problems):
    for g in request.groups:
        role = by_group.get(g.name)
        if g.count == 0 and role and role.node_type in ("compute", "login"):
            problems.warning(request.path, f"InstanceGroups[{g.index}].InstanceCount",
                             f"group {g.name!r} starts with no instances",
                             "fine if you scale it up later; else set InstanceCount >= 1")
