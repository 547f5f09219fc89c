"""Stage 5, serve: what reads the publication or shows the warehouse to people: the
report, the exports, `status`, and the `barometre` command line."""
