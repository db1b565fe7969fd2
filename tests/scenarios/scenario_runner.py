"""Runs the selected Molecule scenarios in the background, a few at a time, longest first."""

import os
import pathlib
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
LOGS = ROOT / ".cache" / "logs"
SCENARIOS = sorted(p.name for p in (ROOT / "molecule").iterdir() if (p / "molecule.yml").exists())
# About the minutes each takes alone on the 2-core machine (tests/README.md): the longest start first,
# so that the last one to finish is a short one. A scenario not listed starts first.
MINUTES = {"hyperpod": 9, "faults": 9, "standalone": 8, "observability": 4.5, "containers": 3.5, "slurm24": 3.5}


def remove_named_volumes(scenario, env):
    """A scenario starts on fresh named volumes (molecule's destroy keeps them): an earlier run's
    volume holds its data (the standalone controllers' shared state) and, seen with podman 4.3, a
    lock that podman has since given to a new container ("deadlock due to lock mismatch")."""
    config = yaml.safe_load((ROOT / "molecule" / scenario / "molecule.yml").read_text())
    sources = {volume.split(":", 1)[0] for platform in config.get("platforms", [])
               for volume in platform.get("volumes", [])}
    names = {source for source in sources if "/" not in source}  # not a path bound from this machine
    for name in sorted(names):
        subprocess.run(["podman", "volume", "rm", "--force", name], env=env, capture_output=True, check=False)


@dataclass
class Result:
    scenario: str
    returncode: int
    seconds: float
    log: pathlib.Path


class Runner:
    def __init__(self, scenarios, jobs):
        self.pending = sorted(scenarios, key=lambda s: -MINUTES.get(s, 99))
        self.results = {}
        self.started = {}
        self.processes = []
        self.stopped = False
        self.slots = threading.Semaphore(jobs)
        self.done = threading.Condition()
        self.thread = threading.Thread(target=self._run_all, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def _run_all(self):
        threads = []
        for scenario in self.pending:
            self.slots.acquire()
            if self.stopped:
                break
            thread = threading.Thread(target=self._run_one, args=(scenario,), daemon=True)
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()

    def _run_one(self, scenario):
        LOGS.mkdir(parents=True, exist_ok=True)
        log = LOGS / ("molecule-%s.log" % scenario)
        env = dict(os.environ, CONTAINERS_CONF=str(ROOT / "tests" / "harness" / "containers.conf"),
                   PATH=str(pathlib.Path(sys.executable).parent) + os.pathsep + os.environ["PATH"],
                   ANSI_COLORS_DISABLED="1", NO_COLOR="1", PY_COLORS="0")
        remove_named_volumes(scenario, env)
        started = time.monotonic()
        self.started[scenario] = time.time()
        try:
            with open(log, "w", encoding="utf-8") as out:
                process = subprocess.Popen(
                    [str(pathlib.Path(sys.executable).parent / "molecule"), "test", "-s", scenario],
                    cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
                self.processes.append(process)
                returncode = process.wait()
        except OSError as e:
            log.write_text("could not start molecule: %s\n" % e)
            returncode = 127
        finally:
            self.slots.release()
        with self.done:
            self.results[scenario] = Result(scenario, returncode, time.monotonic() - started, log)
            self.done.notify_all()

    def stop(self):
        self.stopped = True
        for process in self.processes:
            if process.poll() is None:
                process.terminate()

    def wait(self, scenario):
        with self.done:
            self.done.wait_for(lambda: scenario in self.results)
            return self.results[scenario]
