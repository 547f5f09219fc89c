"""`barometre report`: the edition's report as a self-contained static HTML page.

Built only from the published copy of the warehouse (marts and reference lookups), so
the marts' disclosure control holds in the report. Modules: `queries` (every SQL
query, one home to repoint), `page` (figures, tables and the Jinja2 page), `charts`
(the four chart kinds, drawn as SVG in Python on `svg`, a small SVG writer), `build`
(the site on disk), `asset` (the Dagster asset); the command is
barometre.serve.cli.report. Only `asset` is imported when Dagster loads the code.
"""
