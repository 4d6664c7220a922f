"""Batch inference with model bundles: resumable screening of many recordings.

`batch.run_screen` (JSON-lines results, error rows, parallel workers), `predict.screen_record`
(seizure-level probabilities, per-window timeline and detected episodes of one recording,
annotated or not), `proposals` (episodes into the label store as model proposals),
`results.ResultsLog` (fsync'd append, torn-line repair), `report` (timelines, CSV/Parquet,
sortable HTML); `tools/screen.py`.
"""
