"""The peer for `loadline merge`: HdrHistogram's own Python implementation
(hdrh, `pip install hdrhistogram`) reads every shard's latency.hlog with
HistogramLogReader and adds every interval histogram into one histogram
per tag (endpoint/outcome) and into one total, then prints the total's
count and quantiles. It writes nothing: `loadline merge` does more on top
(checks the shards belong together, adds their time series and summaries,
writes the merged interval log, compressed, one interval per second, and
the merged summary), so the comparison favours the peer.

    python3 benches/merge_peer.py SHARD_DIR/latency.hlog...
"""
import sys

from hdrh.histogram import HdrHistogram
from hdrh.log import HistogramLogReader

LOWEST, HIGHEST, SIGFIG = 1, 3_600_000_000, 3


def main(paths):
    total = HdrHistogram(LOWEST, HIGHEST, SIGFIG)
    per_tag = {}
    n = 0
    for path in paths:
        # The reader decodes into a fresh histogram per interval; the
        # reference histogram only gives the layout.
        reader = HistogramLogReader(path, HdrHistogram(LOWEST, HIGHEST, SIGFIG))
        while True:
            h = reader.get_next_interval_histogram()
            if h is None:
                break
            tag = h.get_tag()
            into = per_tag.get(tag)
            if into is None:
                into = per_tag[tag] = HdrHistogram(LOWEST, HIGHEST, SIGFIG)
            into.add(h)
            total.add(h)
            n += 1
    qs = [50, 99, 99.9]
    print(f"{len(paths)} logs, {n} interval histograms, {len(per_tag)} tags, "
          f"{total.get_total_count()} requests:",
          ", ".join(f"p{q} {total.get_value_at_percentile(q)}us" for q in qs))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: merge_peer.py LATENCY_HLOG...")
    main(sys.argv[1:])
