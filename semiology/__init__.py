"""semiology: quantitative, explainable evidence of seizure semiology from video."""

__version__ = "0.1.0"
