"""Stage 1, ingest: edition folders (exports + manifest) into the raw schema of the
warehouse, each row loaded or quarantined under the pandera row contract; the sensor and
schedule that start ingestion runs."""
