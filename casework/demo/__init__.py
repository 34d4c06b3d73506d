"""The demo: territories, programmes, accounts and about 200 beneficiaries with pacts in every
state, loaded through the same operations as real use, and a directory of about 90 services
with referrals of some pacts to them. The data is kept as readable tables apart
from the loader. Nothing else in the package may import it."""

from casework.demo.loader import load_demo
from casework.demo.scale import ScaleRefused, ScaleSummary, load_scale

__all__ = [
    "ScaleRefused",
    "ScaleSummary",
    "load_demo",
    "load_scale",
]
