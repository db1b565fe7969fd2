"""Whether remote_write reaches Amazon Managed Prometheus, for the run summary (role observability):
read from the signing forwarder's counters (hpb-amp-forwarder's /metrics) and Prometheus's own
(prometheus_remote_storage_samples_total and _samples_failed_total)."""

import re

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)")


def _sums(text):
    """{metric name: sum over its series, {label text: value}} of a Prometheus text page."""
    sums, series = {}, {}
    for line in str(text or "").splitlines():
        found = _SAMPLE.match(line)
        if not found or line.startswith("#"):
            continue
        try:
            value = float(found.group(3))
        except ValueError:
            continue
        sums[found.group(1)] = sums.get(found.group(1), 0.0) + value
        series[found.group(1) + (found.group(2) or "")] = value
    return sums, series


def amp_delivery(forwarder_metrics, prometheus_metrics=""):
    """{status, delivered, rejected, failed, no_credentials, samples_sent, samples_failed, line}.
    status: delivered (the workspace took every request so far), failing (it refused some, or
    none arrived, or there are no credentials), waiting (no request yet)."""
    _, forwarder = _sums(forwarder_metrics)
    prometheus, _ = _sums(prometheus_metrics)
    counts = {result: int(forwarder.get('hpb_amp_forwarder_requests_total{result="%s"}' % result, 0))
              for result in ("delivered", "rejected", "failed", "no_credentials")}
    sent = int(prometheus.get("prometheus_remote_storage_samples_total", 0))
    failed = int(prometheus.get("prometheus_remote_storage_samples_failed_total", 0))
    if counts["no_credentials"]:
        status, why = "failing", "no AWS credentials on the controller (instance profile)"
    elif counts["rejected"] or counts["failed"] or failed:
        status, why = "failing", ("the workspace refused %d request(s), %d failed after retries, Prometheus "
                                  "dropped %d sample(s)" % (counts["rejected"], counts["failed"], failed))
    elif counts["delivered"]:
        status, why = "delivered", "%d request(s) delivered, none refused" % counts["delivered"]
    else:
        status, why = "waiting", "no remote_write request has reached the forwarder yet"
    line = "observability: remote_write to Amazon Managed Prometheus %s: %s%s" % (
        status, why, "; see 'journalctl -u hpb-amp-forwarder'" if status == "failing" else "")
    return dict(counts, status=status, samples_sent=sent, samples_failed=failed, line=line)


class FilterModule:
    """remote_write delivery."""

    def filters(self):
        return {"amp_delivery": amp_delivery}
