# Bench only (bench/inventory_scale.py): Ansible's memory fact cache, filled when Ansible starts from
# one JSON file of every node's facts (BENCH_FACTS). A real standalone run holds the facts site.yml
# gathered in memory; the bench cannot gather 10,000 nodes, and a file cache would add a file read
# and a JSON decode per node that no real run has.

import json
import os

from ansible.plugins.cache.memory import CacheModule as MemoryCache

DOCUMENTATION = """
name: bench_facts
short_description: The memory cache, filled from the file BENCH_FACTS names (bench only)
description:
  - The facts of every node, as one JSON object of host name to facts, read once when Ansible starts.
"""


class CacheModule(MemoryCache):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        with open(os.environ["BENCH_FACTS"], encoding="utf-8") as facts:
            self._cache = json.load(facts)
