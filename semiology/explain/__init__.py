"""Why a bundled model decided as it did: attributions, adjacency, faithfulness and their rendering.

`attributions.explain_record` (integrated gradients of the class's log-odds, read as evidence
for the class, and Grad-CAM per joint and frame; learned and data-dependent adjacency; TCN
time attributions), `faithfulness` (deletion curves with joints held at rest, planted-joint
mass), `figures` and `video` (drawings, overlay mp4), `page.explain_seizure`
(one HTML page per seizure; `tools/explain.py`).
"""
