"""Live classification: frames from a camera, a stream or a file, scored causally as they come.

`source` opens what frames come from and hands them over at their own pace, dropping (and
counting) what the processing cannot keep up with; `session` runs the extraction chain frame by
frame, keeps the recent past at the bundle's frame rate and scores each window as soon as it
is complete, with the same causal normalisation the bundle was trained with; `output` writes
one JSON line per decision, alarm and summary; `cli` is `tools/live.py`.
"""
