"""The review web app: clinicians review a seizure with its skeleton, label signs on a timeline while it plays, and correct the model.

A FastAPI server (`app.create_app`) over the label store, with pages and scripts shipped in
`static/` (nothing is fetched from the internet), run by uvicorn (`cli.serve`, `tools/review.py`).
See docs/review.md.
"""
