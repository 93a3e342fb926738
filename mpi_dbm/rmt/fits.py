"""Fits of eigenvalue densities and spacing laws to samples, with errors.

The façade of the fits (every name below is importable from here, as before); one module per
family of fits:

* :mod:`.fits_base` — :class:`FitResult` and the shared machinery: the input convention (1-D
  values or 2-D rows = realisations), errors (``"hessian"``, ``"jackknife"`` over rows, ``"none"``)
  and the KS distance of the fitted law;
* :mod:`.fits_goe2` — regular ML fits of the 2×2 GOE density and the Gaussian;
* :mod:`.fits_bounded` — semicircle and Marchenko–Pastur (bounded support, non-regular
  likelihood): minimum Cramér–von Mises distance by default, moments and support-constrained ML;
* :mod:`.fits_brody` — ML fit of the Brody parameter of spacings;
* :mod:`.fits_histogram` — least-squares fit to a histogram (the authors' method).
"""

from __future__ import annotations

from .fits_base import FitResult
from .fits_bounded import fit_marchenko_pastur, fit_semicircle
from .fits_brody import fit_brody
from .fits_goe2 import fit_gaussian, fit_goe2
from .fits_histogram import fit_histogram

__all__ = [
    "FitResult",
    "fit_brody",
    "fit_gaussian",
    "fit_goe2",
    "fit_histogram",
    "fit_marchenko_pastur",
    "fit_semicircle",
]
