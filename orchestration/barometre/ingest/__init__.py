"""Ingestion: edition folders (exports + manifest) into the raw schema of the warehouse."""
