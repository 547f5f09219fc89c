"""Development tools of barometre, kept out of the runtime package.

`barometre_dev.sample` writes the bundled SYNTHETIC sample (data/raw) and benchmark-size
data: one entry point, `python -m barometre_dev.sample` (docs/sample-data.md). The
runtime (`barometre`) never imports this package and is installed without it
(pyproject.toml); tests and benchmarks use it from a checkout (`make setup`).
"""
