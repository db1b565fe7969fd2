"""What slurmd finds on a node (`slurmd -C`) against the node's line in slurmctld (`scontrol show
node -o`), for the run summary (role slurm_compute): a platform-owned node line that promises more
CPUs or memory than the node has makes slurmd's registration fail, or the node INVAL."""

import re


def _value(text, key):
    match = re.search(r"\b%s=(\d+)" % key, text)
    return int(match.group(1)) if match else None


def _line_gpus(node_line):
    """The GPUs a node line's Gres promises (gpu:8, gpu:a100:4(S:0-1), ...), None without any."""
    match = re.search(r"\bGres=(\S+)", node_line)
    counts = re.findall(r"(?:^|,)gpu(?::[^:,(\s]+)?:(\d+)", match.group(1)) if match else []
    return sum(int(count) for count in counts) if counts else None


def slurm_node_drift(slurmd_c, node_line, gpu_listing=None):
    """{'slurmd': {CPUs, RealMemory[, GPUs]}, 'node_line': {CPUs, RealMemory[, GPUs]}, 'drift': [lines]}:
    drift when the CPU counts differ, the node line's RealMemory (MB) is above what slurmd found,
    or, given `nvidia-smi -L`'s output, the GPUs it lists are not the node line's Gres count."""
    found = {"CPUs": _value(str(slurmd_c), "CPUs"), "RealMemory": _value(str(slurmd_c), "RealMemory")}
    line = {"CPUs": _value(str(node_line), "CPUTot"), "RealMemory": _value(str(node_line), "RealMemory")}
    drift = []
    promised = _line_gpus(str(node_line))
    if gpu_listing is not None and promised is not None:
        seen = len(re.findall(r"^GPU \d+:", str(gpu_listing), re.M))
        found["GPUs"], line["GPUs"] = seen, promised
        if seen != promised:
            drift.append("GPUs: node line %d, nvidia-smi lists %d" % (promised, seen))
    if None not in (found["CPUs"], line["CPUs"]) and found["CPUs"] != line["CPUs"]:
        drift.append("CPUs: node line %d, slurmd -C %d" % (line["CPUs"], found["CPUs"]))
    if None not in (found["RealMemory"], line["RealMemory"]) and line["RealMemory"] > found["RealMemory"]:
        drift.append("RealMemory: node line %d MB, above the %d MB slurmd -C found"
                     % (line["RealMemory"], found["RealMemory"]))
    return {"slurmd": found, "node_line": line, "drift": drift}


class FilterModule:
    """Node hardware against slurm.conf."""

    def filters(self):
        return {"slurm_node_drift": slurm_node_drift}
