"""Stage 4, publish: the marts and public reference lookups of the working warehouse,
copied atomically to a read-only file (+ Parquet) for BI tools."""
