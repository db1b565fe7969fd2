"""lifecycle/settings.py's table of renamed role variables stays true to the roles' argument specs:
every new name is a role's variable, no old name is one any more (bootstrap.py refuses old names;
the corpus cases gv-variable-renamed and e-variable-removed show the lines)."""

from conftest import REPO
from lifecycle import settings


def test_renamed_variables_point_at_variables_the_roles_have():
    roles = settings.Roles(REPO / "roles")
    assert not [old for old in settings.RENAMED if old in roles.options]
    assert not [new for new in settings.RENAMED.values() if new is not None and new not in roles.options]
