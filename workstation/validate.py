"""validate: a CreateCluster request checked against this bundle before the cluster
exists, every problem listed, each naming the file, the field and a fix; exit 1 on any error.

The checks live beside this file: request_model.py (the API's own model), request_checks.py
(LifeCycleConfig, FSx, orchestration), slurm_roles.py (node types and partitions, with the
cluster model's checks), aws_checks.py (--aws: subnets, security groups, FSx in the account); the
bundle's group_vars and host_vars get the check every node runs first (lifecycle/settings.py).
"""

import json
import os
import sys
from pathlib import Path

from lifecycle import settings
from workstation import bundle as bundle_files
from workstation import request_checks, slurm_roles
from workstation.problems import Problems, model, severity

ROOT = Path(__file__).resolve().parent.parent


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
            built = json.loads(manifest.read_text())
            self.files, self._short_hash = set(built["files"]), built["content_hash"][:12]
        else:
            self.files, self._short_hash = set(bundle_files.source_files(self.root)), None
        self.pp = self._role_file("provisioning_parameters.json")
        self.node_roles = self._role_file("node_roles.json")
        self.shared_users = self._role_file("shared_users.txt")

    def _role_file(self, name):
        return str(self.root / name) if name in self.files else None

    def content_hash(self):
        """The short hash `bootstrap.py bundle` gives it (hashing a checkout takes a moment: on demand)."""
        if self._short_hash is None:
            self._short_hash = bundle_files.collect(self.root).short_hash
        return self._short_hash


def validate(create_cluster, provisioning_parameters=None, bundle_dir=ROOT, aws=False):
    """Every problem of the request, the role file and the bundle. provisioning_parameters: None for
    the bundle's own, '' for none."""
    problems = Problems()
    bundle = Bundle(bundle_dir)
    try:
        request = request_checks.Request(create_cluster, model.read_json(create_cluster, array_ok=True))
    except model.ConfigError as e:
        problems.add(e)
        return problems
    request_checks.check_request_model(request, problems)
    request_checks.read_groups(request, problems)
    if bundle.pp and bundle.node_roles:
        problems.error(bundle.node_roles, None, f"in the bundle together with {bundle.pp}: nodes refuse both",
                       "keep provisioning_parameters.json (legacy mode) or node_roles.json (API-driven mode)")
    pp, pp_storage = None, {}
    if request.api_driven:
        by_group = slurm_roles.check_api_driven(request, bundle, provisioning_parameters or None, problems)
    else:
        pp = bundle.pp if provisioning_parameters is None else provisioning_parameters or None
        slurm_roles.check_legacy_role_file(bundle, pp, problems)
        by_group, pp_storage = slurm_roles.check_legacy(request, pp, problems)
    slurm_roles.check_counts(request, by_group, problems)
    request_checks.check_lifecycle(request, bundle, problems)
    request_checks.check_storage_configs(request, pp_storage, problems)
    request_checks.check_orchestration(request, problems)
    problems.extend_from(settings.problems(bundle.root, overridden=True))
    if bundle.shared_users:  # every bad line, as each node would refuse the first
        users_problems = []
        model.read_shared_users(bundle.shared_users, users_problems)
        for problem in users_problems:
            problems.add(problem)
    if aws:
        from workstation import aws_checks  # boto3 clients only when asked for
        aws_checks.check(request, pp, pp_storage, problems)
    return problems


def as_json(problems):
    return [{"severity": severity(p), "file": p.path, "field": p.field, "problem": p.problem, "fix": p.fix,
             "message": str(p)} for p in problems]


def main(args):
    try:
        problems = validate(args.create_cluster, args.provisioning_parameters, Path(args.bundle or ROOT), args.aws)
    except bundle_files.BundleError as e:
        print(f"{args.prog}: --bundle: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(as_json(problems), indent=2))
    else:
        for p in problems:
            print(f"{severity(p)}: {p}")
        errors, warnings = len(problems.errors), len(problems) - len(problems.errors)
        print(f"{args.create_cluster}: {errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
              if problems else f"{args.create_cluster}: no problems")
    return 1 if problems.errors else 0
