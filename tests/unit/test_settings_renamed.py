"""Renamed or removed role variables (lifecycle/settings.py RENAMED) are refused with what to do:
every new name is a role's variable, no old name is one any more, CHANGELOG.md's newest section
says each rename (the corpus cases gv-variable-renamed and e-variable-removed show the lines)."""

from conftest import REPO
from lifecycle import settings


def test_every_rename_points_from_a_gone_name_to_a_roles_variable():
    roles = settings.Roles(REPO / "roles")
    assert not [old for old in settings.RENAMED if old in roles.options]
    assert not [new for new in settings.RENAMED.values() if new is not None and new not in roles.options]


def test_the_changelogs_newest_section_names_every_rename():
    newest = " ".join((REPO / "CHANGELOG.md").read_text(encoding="utf-8").split("\n## ")[1].split())
    missing = [old for old, new in settings.RENAMED.items() if new and "`%s` -> `%s`" % (old, new) not in newest]
    assert not missing, "not in CHANGELOG.md's newest section as `old` -> `new`: " + ", ".join(missing)


def test_an_old_name_is_refused_with_the_new_one():
    [problem] = settings.Roles(REPO / "roles").check("group_vars/all.yml", "observability_download_delay", 2)
    assert str(problem) == ("group_vars/all.yml: observability_download_delay: was renamed to packages_download_delay; "
                            "rename it (see roles/packages/README.md)")
