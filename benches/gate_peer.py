"""The peer for reading a long soak's interval log: HdrHistogram's own
Python implementation (hdrh, `pip install hdrhistogram`) merges every
interval of latency.hlog and prints the quantiles the gate's policy asks
for. What `loadline gate RUN` (no baseline) does on top of this: per
endpoint and per second counts, SLO burn windows, blocks for a bootstrap.

    python3 benches/gate_peer.py RUN_DIR/latency.hlog
"""
import sys

from hdrh.histogram import HdrHistogram
from hdrh.log import HistogramLogReader


def main(path):
    total = HdrHistogram(1, 3_600_000_000, 3)
    reader = HistogramLogReader(path, total)
    n = 0
    while True:
        h = reader.get_next_interval_histogram()
        if h is None:
            break
        total.add(h)
        n += 1
    qs = [50, 99, 99.9]
    print(f"{n} intervals, {total.get_total_count()} requests:",
          ", ".join(f"p{q} {total.get_value_at_percentile(q)}us" for q in qs))


if __name__ == "__main__":
    main(sys.argv[1])
