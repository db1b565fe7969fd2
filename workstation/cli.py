"""The workstation commands' command line: `python -m workstation COMMAND` from a checkout;
`bootstrap.py COMMAND` passes them on here. Each command's module is imported only when it runs."""

import argparse
import importlib

COMMANDS = ("validate", "bundle", "upload")


def parser(prog):
    bundle_opts = argparse.ArgumentParser(add_help=False)
    bundle_opts.add_argument("--wheels", help="folder of node wheels (default: .cache/wheels, if present)")
    bundle_opts.add_argument("--no-wheels", action="store_true", help="leave the wheels out (nodes then need PyPI)")
    bundle_opts.add_argument("--collections", help="an ansible_collections folder (default: .collections/...)")

    main = argparse.ArgumentParser(prog=prog, description="Check, build and upload the lifecycle bundle.")
    sub = main.add_subparsers(dest="command", required=True)
    validate = sub.add_parser("validate", help="check create_cluster.json, the role file and group_vars")
    validate.add_argument("--create-cluster", required=True, metavar="FILE",
                          help="the CreateCluster request (JSON; an object, or just the InstanceGroups array)")
    validate.add_argument("--provisioning-parameters", metavar="FILE",
                          help="legacy mode role file (default: the bundle's, if any; '' for none)")
    validate.add_argument("--bundle", metavar="DIR", help="the bundle to check: a built one or a checkout "
                          "(default: this checkout)")
    validate.add_argument("--aws", action="store_true",
                          help="also check subnets, security groups and FSx in your AWS account (needs credentials)")
    validate.add_argument("--json", action="store_true", help="print the problems as a JSON array")

    bundle = sub.add_parser("bundle", parents=[bundle_opts], help="build the bundle")
    bundle.add_argument("out", nargs="?", default="build/hyperpod-bundle-{hash}.tar.gz",
                        help="a folder, or a .tar.gz; {hash} becomes the content hash (default: %(default)s)")
    bundle.add_argument("--list", action="store_true", help="print the top-level paths the bundle takes, and stop")
    bundle.add_argument("--json", action="store_true", help="report as JSON")

    upload = sub.add_parser("upload", parents=[bundle_opts], help="build and upload the bundle to S3")
    upload.add_argument("uri", help="s3://bucket/prefix; the bundle goes under <prefix>/<content hash>/")
    upload.add_argument("--bundle", metavar="PATH", help="upload this bundle (folder or .tar.gz) instead of building")
    upload.add_argument("--json", action="store_true", help="report as JSON")
    return main


def main(argv=None, prog="python -m workstation"):
    """Run one command; its exit status. Messages start with `<prog> <command>:`."""
    args = parser(prog).parse_args(argv)
    args.prog = f"{prog} {args.command}"
    return importlib.import_module(f"workstation.{args.command}").main(args)
