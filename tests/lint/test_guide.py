"""docs/ordinary-clusters.md shows the playbook the standalone scenario runs, not a copy that drifts."""

import pathlib
import re

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_the_guides_playbook_is_the_scenarios():
    guide = (ROOT / "docs" / "ordinary-clusters.md").read_text()
    blocks = re.findall(r"^```yaml\n(.*?)^```$", guide, re.S | re.M)
    assert len(blocks) == 1, "one yaml block: the playbook"
    converge = yaml.safe_load((ROOT / "molecule" / "standalone" / "converge.yml").read_text())
    # The scenario's first play only checks that the roles come from the built collection.
    assert yaml.safe_load(blocks[0]) == converge[1:]


def test_the_readme_links_the_guide():
    assert "docs/ordinary-clusters.md" in (ROOT / "README.md").read_text()
