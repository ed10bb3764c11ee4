"""Proactive screening of a low-income register against the 20 measures (issue 8).

`hotline screen INPUT --as-of DATE --out OUTPUT` reads households (CSV or Parquet, one Facts
field per column), evaluates each with `policy_kb.evaluate` in worker processes, and writes
one row per household plus a per-county summary. `hotline screen synth` makes synthetic
registers. Modules:

    columns   cell text -> Facts values (types from policy_kb's Facts vocabulary)
    tabular   chunked pyarrow readers/writers, atomic output files
    engine    the batch worker and the ordered multi-process driver
    receiving the "already receiving" list (household_id, measure)
    synth     seeded synthetic registers
    cli       `hotline screen ...`

Nothing runs at import time.
"""
