-- raw.load_log invariant (docs/architecture.md): every row read is either loaded or quarantined.
select
    edition_code,
    source_file,
    loaded_at,
    rows_read,
    rows_loaded,
    rows_quarantined
from {{ source('raw', 'load_log') }}
where rows_read <> rows_loaded + rows_quarantined
