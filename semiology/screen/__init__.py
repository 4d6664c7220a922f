"""Batch inference with model bundles: resumable screening of many recordings.

`batch.run_screen` (JSON-lines results, error rows, parallel workers), `predict.screen_record`
(seizure-level probabilities and per-window timeline of one recording), `results.ResultsLog`
(fsync'd append, torn-line repair), `report` (timelines, CSV/Parquet, sortable HTML);
`tools/screen.py`.
"""
