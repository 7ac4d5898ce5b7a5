#!/usr/bin/env python3
"""What the peer's engine needs to write the bytes ij's real release holds, with none of ij's work
(issue 13): each table of a release folder read from its Parquet, then written by DuckDB as CSV and
as zstd Parquet, two threads as the peer. `make bench` prints it beside the peer: the peer script
writes 5.7 MB, ij's release 62 MB. Usage: peer_write_release.py RELEASE_DIR OUT_DIR"""
import glob
import os
import sys

import duckdb

release, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
con = duckdb.connect()
con.execute("SET threads=2")
tables = sorted(glob.glob(os.path.join(release, "*.parquet")))
if not tables:
    sys.exit(f"peer_write_release: no Parquet table in {release}")
for path in tables:
    name = os.path.basename(path)[: -len(".parquet")]
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_parquet('{path}')")
    con.execute(f"COPY t TO '{os.path.join(out, name)}.csv' (HEADER)")
    con.execute(f"COPY t TO '{os.path.join(out, name)}.parquet' (FORMAT parquet, COMPRESSION zstd)")
    con.execute("DROP TABLE t")
