#!/usr/bin/env python3
"""Writes each role's variable tables into its README.md, from its meta/argument_specs.yml.

  tools/role_docs.py           rewrite the generated part of every roles/*/README.md
  tools/role_docs.py --check   change nothing; exit 1 naming the READMEs that are out of date

The generated part sits between the BEGIN and END lines below; the rest of a README is written by
hand. tests/lint/test_role_docs.py runs --check, so READMEs and specs cannot drift apart.
"""

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BEGIN = "<!-- BEGIN variables: generated from meta/argument_specs.yml by tools/role_docs.py -->"
END = "<!-- END variables -->"
COMPUTED = "Default - "
LONGEST_DEFAULT = 48  # longer defaults are left to defaults/main.yml, to keep the table readable


def lines(description):
    return [description] if isinstance(description, str) else list(description or [])


def cell(text):
    """Table cell text: pipes escaped, and <name> kept visible (Markdown would take it for HTML)."""
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def code(text):
    return "`%s`" % text


def type_of(spec):
    kind = spec["type"]
    if kind == "list" and spec.get("elements"):
        kind = "list of %s" % spec["elements"]
    if spec.get("choices"):
        kind += ": " + ", ".join(code(c) for c in spec["choices"])
    return kind


def default_of(spec):
    if spec.get("required"):
        return "**required**"
    if "default" not in spec:
        computed = [line[len(COMPUTED):] for line in lines(spec.get("description")) if line.startswith(COMPUTED)]
        return cell(" ".join(computed)) or "unset"
    value = spec["default"]
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (dict, list)):
        text = yaml.safe_dump(value, default_flow_style=True, width=10**6).strip()
    elif value == "":
        text = '""'
    else:
        text = str(value)
    return "see `defaults/main.yml`" if len(text) > LONGEST_DEFAULT else code(text)


def meaning_of(spec):
    return cell(" ".join(line for line in lines(spec.get("description")) if not line.startswith(COMPUTED)))


def generate(role, specs):
    """The Markdown between BEGIN and END for one role's argument_specs."""
    main = specs["main"].get("options", {})
    out = ["## Variables", "",
           "Checked by Ansible before the role's tasks run; also shown by "
           "`ansible-doc -t role hyperpod.slurm.%s`." % role, "",
           "| variable | type | default | meaning |", "| --- | --- | --- | --- |"]
    out += ["| %s | %s | %s | %s |" % (code(name), type_of(spec), default_of(spec), meaning_of(spec))
            for name, spec in main.items()]
    others = {name: spec for name, spec in specs.items() if name != "main"}
    if others:
        out += ["", "Entry points for other roles and playbooks (`include_role` with `tasks_from`), with the "
                "variables each checks:", "", "| entry point | what | variables |", "| --- | --- | --- |"]
        for name, spec in others.items():
            variables = [code(v) if v in main else "%s (%s)" % (code(v), meaning_of(s))
                         for v, s in spec.get("options", {}).items()]
            out.append("| %s | %s | %s |" % (code(name), cell(spec.get("short_description", "")),
                                             ", ".join(variables) or "none"))
    return "\n".join(out)


def updated(readme, role, specs):
    """The README's text with its generated part rewritten; ValueError without the markers."""
    text = readme.read_text(encoding="utf-8")
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise ValueError("%s: needs one line %s and, after it, one line %s" % (readme, BEGIN, END))
    head, rest = text.split(BEGIN + "\n", 1)
    _, tail = rest.split(END, 1)
    return head + BEGIN + "\n" + generate(role, specs) + "\n" + END + tail


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a README is out of date")
    args = parser.parse_args(argv)
    stale = []
    for spec_file in sorted(ROOT.glob("roles/*/meta/argument_specs.yml")):
        role_dir = spec_file.parents[1]
        readme = role_dir / "README.md"
        try:
            specs = yaml.safe_load(spec_file.read_text(encoding="utf-8"))["argument_specs"]
            text = updated(readme, role_dir.name, specs)
        except ValueError as error:
            print(error, file=sys.stderr)
            return 1
        if text != readme.read_text(encoding="utf-8"):
            stale.append(readme.relative_to(ROOT))
            if not args.check:
                readme.write_text(text, encoding="utf-8")
    if stale:
        print("%s: %s" % ("out of date (run tools/role_docs.py)" if args.check else "rewritten",
                          ", ".join(map(str, stale))), file=sys.stderr if args.check else sys.stdout)
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
