"""Rows/s of the row readers on NSMC train (150k reviews) as TSV, CSV and JSON Lines, against a bare
``line.split("\\t")`` loop (how delimited files were read before the csv module).

    CLAF_DATA_MIRROR=../shared/data flock /tmp/claf-timing.lock python benchmarks/read_rows.py
"""

import csv
import json
import os
import tempfile
import time
from pathlib import Path

from claf.data.readers.seq_cls import SeqClsReader
from claf.data.sources import resolve_data_file


def best_of(runs, call):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return min(times), result


def split_loop(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        next(f)
        for line in f:
            fields = line.rstrip("\r\n").split("\t")
            if fields[1].strip():
                rows.append(fields)
    return rows


def main():
    source = resolve_data_file("nsmc/ratings_train.txt")
    rows = [line.rstrip("\n").split("\t") for line in source.read_text(encoding="utf-8").splitlines()]
    with tempfile.TemporaryDirectory() as tmp:
        as_csv, as_jsonl = Path(tmp) / "nsmc.csv", Path(tmp) / "nsmc.jsonl"
        with open(as_csv, "w", encoding="utf-8", newline="") as f:
            csv.writer(f, lineterminator="\r\n").writerows(rows)
        with open(as_jsonl, "w", encoding="utf-8") as f:
            for row in rows[1:]:
                f.write(json.dumps(dict(zip(rows[0], row)), ensure_ascii=False) + "\n")
        reader = SeqClsReader(text_column="document", label_column="label", id_column="id", skip_empty=True)
        results = {"split loop (before)": best_of(3, lambda: split_loop(source))}
        for name, path in (("tsv", source), ("csv", as_csv), ("jsonl", as_jsonl)):
            results[name] = best_of(3, lambda path=path: reader.read(path))
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    for name, (seconds, examples) in results.items():
        print(f"{name:20s} {len(examples):7d} rows  {seconds:6.2f} s  {len(examples) / seconds / 1000:6.1f}k rows/s")


if __name__ == "__main__":
    main()
