#!/usr/bin/env python3
"""Summary table of the query benchmark (bench/query/run.sh) as Markdown.

Reads the JSON lines that query_bench and duckdb/run.mjs appended to --results and the answers
they wrote to --answers/<system>/Qn.tsv; prints, per query, each system's median, the ratios
of trackhouse to ClickHouse and to the faster peer (the fastest of ClickHouse and DuckDB's two
row orders), whether each system's answer matches ClickHouse's (sorted rows), and the ingest
figures.
"""
import argparse
import json
import os
import sys

SYSTEMS = ["trackhouse", "clickhouse", "duckdb-arrival", "duckdb-sorted"]
PEERS = ["clickhouse", "duckdb-arrival", "duckdb-sorted"]
LABEL = {
    "trackhouse": "trackhouse (HTTP)",
    "clickhouse": "ClickHouse (HTTP)",
    "duckdb-arrival": "DuckDB arrival order (in-process)",
    "duckdb-sorted": "DuckDB best row order (in-process)",
}


def answer(answers, system, query):
    path = os.path.join(answers, system, query + ".tsv")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return sorted(f.read().splitlines())


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--results", required=True)
    ap.add_argument("--answers", required=True)
    ap.add_argument("--machine", default="")
    ap.add_argument("--versions", default="")
    args = ap.parse_args()

    queries = {}  # name -> {"title":..., system -> record}
    ingest, optimize, duck_load = {}, {}, {}
    with open(args.results, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r["bench"] == "query":
                q = queries.setdefault(r["query"], {"title": r.get("title", "")})
                q[r["server"]] = r
            elif r["bench"] == "ingest":
                ingest[r["server"]] = r
            elif r["bench"] == "optimize":
                optimize[r["server"]] = r
            elif r["bench"] == "duckdb_load":
                duck_load[r["server"]] = r

    out = []
    if args.machine:
        out.append(f"Machine: {args.machine}. {args.versions}.")
        out.append("")
    head = ["query"] + [LABEL[s] + ", ms" for s in SYSTEMS] + [
        "trackhouse / ClickHouse", "faster peer", "trackhouse / faster peer", "answers"]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for name in sorted(queries, key=lambda n: int(n[1:])):
        q = queries[name]
        cells = [name]
        median = {}
        for s in SYSTEMS:
            r = q.get(s)
            if r is None:
                cells.append("-")
            elif r["status"] != "ok":
                cells.append(f"**{r['status']}**")
            else:
                median[s] = r["median_ms"]
                cells.append(f"{r['median_ms']:.2f}")
        th = median.get("trackhouse")
        ch = median.get("clickhouse")
        cells.append(f"{th / ch:.2f}" if th and ch else "-")
        peers = [(median[p], p) for p in PEERS if p in median]
        if peers:
            best, who = min(peers)
            cells.append(f"{best:.2f} ({who})")
            cells.append(f"{th / best:.2f}" if th else "-")
        else:
            cells += ["-", "-"]
        ref = answer(args.answers, "clickhouse", name)
        checks = []
        for s in SYSTEMS:
            if s == "clickhouse":
                continue
            a = answer(args.answers, s, name)
            if a is not None and ref is not None:
                checks.append(f"{s}: {'same' if a == ref else 'DIFFERS'}")
        cells.append(", ".join(checks) + (f" ({len(ref)} rows)" if ref is not None else ""))
        out.append("| " + " | ".join(cells) + " |")

    out.append("")
    for name in sorted(queries, key=lambda n: int(n[1:])):
        out.append(f"- {name}: {queries[name]['title']}")
    out.append("")
    out.append("| ingest | rows/s | seconds | note |")
    out.append("|---|---|---|---|")
    for s in ["trackhouse", "clickhouse"]:
        r = ingest.get(s)
        if r:
            note = (f"{r['batches']} HTTP requests of {r['batch_rows']} JSONEachRow rows, one "
                    f"keep-alive connection; batch median {r['batch_ms_median']:.1f} ms")
            if s in optimize:
                note += f"; then OPTIMIZE FINAL {optimize[s]['seconds']:.2f} s"
            out.append(f"| {LABEL[s]} | {r['rows_per_s'] / 1e6:.3f} M | {r['seconds']:.2f} | "
                       f"{note} |")
    if "trackhouse" in ingest and "clickhouse" in ingest:
        ratio = ingest["trackhouse"]["rows_per_s"] / ingest["clickhouse"]["rows_per_s"]
        out.append(f"| trackhouse / ClickHouse | {ratio:.2f}x | | target >= 2x |")
    for s, r in sorted(duck_load.items()):
        out.append(f"| {LABEL.get(s, s)} load | {r['rows'] / r['seconds'] / 1e6:.3f} M | "
                   f"{r['seconds']:.2f} | read_json of the file + INSERT + CHECKPOINT, "
                   f"in-process (not comparable with HTTP) |")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
