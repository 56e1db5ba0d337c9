#!/usr/bin/env python3
"""Split the CPU time of masking a JSON or JSONL file by stage, in one process.

The stages run one after another for each batch, with the internals that
``maskme mask`` uses for a policy whose fields are all top-level keys with
Polars expressions (one query per batch):

- read: parsing the file into batches of record dicts;
- start: reading the policy's fields out of the dicts into columns;
- query: the batch's Polars query (the strategies), waited for at once;
- finish: turning the results into Python values, kept for the writer;
- serialize: writing them into the dicts while serializing the batch.

Times are process CPU seconds (all threads). Nothing is written to disk.
The stages do not overlap here, unlike in a ``maskme mask`` run.

Usage::

    .venv/bin/python bench/jsonl_stages.py bench/data/people-1000000.jsonl \\
        bench/policies/mask.yaml [--batch-size 16384]

The benchmark policy reads its key from MASKME_BENCH_KEY. A policy with no
fields (``bench/policies/passthrough.yaml``) times reading and serializing.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from maskme.engine.batch_query import build_batch_query, finish_batch_query, start_batch_query
from maskme.engine.plan import build_plan
from maskme.errors import MaskMeError
from maskme.formats import open_input
from maskme.formats.json import JsonBatch
from maskme.policy.model import load_policy

STAGES = ("read", "start", "query", "finish", "serialize")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", help="a JSON or JSONL file")
    parser.add_argument("policy", help="a policy whose fields the per-batch query covers")
    parser.add_argument("--batch-size", type=int, default=16_384, help="records per batch")
    options = parser.parse_args()
    if options.batch_size < 1:
        parser.error(f"--batch-size: expected at least 1, got {options.batch_size}")

    try:
        plan = build_plan(load_policy(options.policy), None)
    except MaskMeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    query = build_batch_query(plan)
    if query is None and plan.fields:
        print("this policy does not run as one query per batch", file=sys.stderr)
        return 2
    seconds = dict.fromkeys(STAGES, 0.0)
    matched: set[str] = set()
    gc.disable()  # as the engine does while batches stream
    with open_input(options.input) as opened, ThreadPoolExecutor(max_workers=1) as pool:
        if opened.format not in ("json", "jsonl"):
            print(f"{opened.name}: expected a JSON or JSONL file, got {opened.format.upper()}",
                  file=sys.stderr)
            return 2
        batches = iter(opened.reader.batches(options.batch_size))
        while True:
            started_at = time.process_time()
            batch = next(batches, None)
            if batch is None:
                break
            assert isinstance(batch, JsonBatch)
            seconds["read"] += time.process_time() - started_at
            if query is None:  # a pass-through policy: reading and serializing only
                started_at = time.process_time()
                batch.serialized(b"\n")
                seconds["serialize"] += time.process_time() - started_at
                continue

            started_at = time.process_time()
            started = start_batch_query(query, batch, pool)
            if started is None:
                print(f"batch at record {batch.first_record:,} needs the per-field path",
                      file=sys.stderr)
                return 1
            seconds["start"] += time.process_time() - started_at

            started_at = time.process_time()
            started.result.result()
            seconds["query"] += time.process_time() - started_at

            started_at = time.process_time()
            if not finish_batch_query(started, plan, matched):
                print(f"batch at record {batch.first_record:,} has a value the query flags",
                      file=sys.stderr)
                return 1
            seconds["finish"] += time.process_time() - started_at

            started_at = time.process_time()
            batch.serialized(b"\n")
            seconds["serialize"] += time.process_time() - started_at
    for stage in STAGES:
        print(f"{stage:10s} {seconds[stage]:6.2f} s")
    print(f"{'total':10s} {sum(seconds.values()):6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
