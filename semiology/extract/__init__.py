"""Extraction: recordings in, cached seizure records out (keypoints, face landmarks, crops, features)."""
