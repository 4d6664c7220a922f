"""Model bundles: a study's final models, ready to explain or to screen new recordings.

`store` holds the format (save, load, refuse what this version cannot read), `build` refits a
study's models on all subjects into a bundle, `predict` applies a bundle's models to a record.
"""

from semiology.bundle.predict import check_record, model_inputs, prepare_record, segment_frames, window_probabilities
from semiology.bundle.store import BUNDLE_VERSION, Bundle, BundledModel, BundleError, load_bundle, save_bundle

__all__ = [
    "BUNDLE_VERSION",
    "Bundle",
    "BundleError",
    "BundledModel",
    "check_record",
    "load_bundle",
    "model_inputs",
    "prepare_record",
    "save_bundle",
    "segment_frames",
    "window_probabilities",
]
