"""The synthetic EMU cohort: subjects with idiosyncrasies, seizures with planted, known semiology."""

from semiology.synthetic.cohort import GENERATOR_VERSION, make_cohort, make_plans, simulate_record
from semiology.synthetic.motion import SeizurePlan
from semiology.synthetic.spec import CohortSpec
from semiology.synthetic.subjects import SubjectTraits, make_subjects

__all__ = [
    "GENERATOR_VERSION",
    "CohortSpec",
    "SeizurePlan",
    "SubjectTraits",
    "make_cohort",
    "make_plans",
    "make_subjects",
    "simulate_record",
]
