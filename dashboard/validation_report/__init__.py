"""The validation report shipped with the package: byte copies of ``docs/validation/validation_table.parquet``,
``district_shares.parquet``, ``district_share_errors.parquet`` and ``manifest.json`` of ``docs/validation/`` (``docs/``
is not package data). The dashboard's Validation page shows it when the results hold no report of their own; a test
checks the copy still equals the documented report."""
