"""Learning a scorecard from a bureau's own history.

:func:`fit_scorecard` learns an ordinary :class:`~creditsup.scoring.Scorecard`
(plus tier cut-offs) from the dataset's past inspections, using only what
was known before ``as_of``; ``creditsup fit`` writes it as a policy TOML
that ``score`` and ``plan`` read unchanged, so every tier keeps its reason
codes (C4). ``creditsup backtest --fit`` fits before the split and tests
after it (:func:`backtest_fitted`).

The procedure (docs/fitting.md)
-------------------------------
1. **Units** (:mod:`~creditsup.fit.units`): snapshots ``t`` every
   ``step_days`` before the cut-off; for each, the entities inspected at
   random in ``[t, t + horizon)`` (clipped at the cut-off), features as of
   ``t - 1 day``, label "the first such inspection found a problem".
2. **Candidates** (:mod:`~creditsup.fit.candidates`): indicators generated
   from the tables (counts, shares and recency of each result and record
   kind over several windows; aggregates of numeric extra columns; entity
   attributes; shared address and owner), computed by the scoring code.
3. **Bins** (:mod:`~creditsup.fit.binning`): optimal monotone bins
   (optbinning, CP-SAT) and each bin's event log-odds.
4. **Model** (:mod:`~creditsup.fit.model`): an L1-penalised logistic
   regression with non-negative coefficients on the binned features.
5. **Selection** (:mod:`~creditsup.fit.select`): penalty and number of
   features chosen on time-based folds inside the training window.
6. **Scorecard** (:mod:`~creditsup.fit.assemble`): points to double the
   odds, tiers from the fitted risk, the TOML file.

The optional dependencies (optbinning, scikit-learn) come with the ``fit``
extra: ``pip install 'creditsup[fit]'``.
"""

from __future__ import annotations

from creditsup.fit.backtest import backtest_fitted
from creditsup.fit.candidates import Candidate, candidate_indicators
from creditsup.fit.fit import fit_scorecard
from creditsup.fit.options import CandidateOptions, FitOptions
from creditsup.fit.result import FitResult, FittedPolicy

__all__ = [
    "Candidate",
    "CandidateOptions",
    "FitOptions",
    "FitResult",
    "FittedPolicy",
    "backtest_fitted",
    "candidate_indicators",
    "fit_scorecard",
]
