"""Validate the fit on Chicago inside the training window (nothing from 2013).

The dataset is cut at 2012-12-31. For each validation split (as of 2012-07-01
with 184 days of outcomes, as of 2012-10-01 with 92, the splits the hand card
was designed on), a scorecard is fitted before the split (365-day horizon) and
backtested after it, against the hand-designed card of
``examples/chicago_policy.toml`` calibrated before the split, on the same
licences. Prints the AUC of both, overall and among licences with history.

This is how every default of :class:`creditsup.fit.FitOptions` was chosen
(docs/fitting.md); the 2013 test window is not touched.

Run from the repository root: on the slice shipped in ``examples/data/chicago``
(imported into a temporary folder), or with ``--data`` on the full export
imported by ``creditsup import-chicago`` (the figures of docs/fitting.md)::

    PYTHONPATH=src python examples/chicago_fit_validation.py
    PYTHONPATH=src python examples/chicago_fit_validation.py --data chicago_data
    PYTHONPATH=src python examples/chicago_fit_validation.py --data chicago_data \\
        --options '{"snapshot_weights": "equal"}' --candidates '{"prior_rows": 0}'
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from pathlib import Path

from creditsup.chicago import import_chicago_to
from creditsup.evaluate import BacktestOptions, auc_score
from creditsup.evaluate.backtest import backtest_from_options
from creditsup.fit import CandidateOptions, FitOptions, fit_scorecard
from creditsup.plan import load_policy
from creditsup.schemas import load_dataset

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "chicago"
SPLITS = (("2012-07-01", 184), ("2012-10-01", 92))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="an imported Chicago dataset")
    parser.add_argument(
        "--inspections", type=Path, default=DATA / "food_inspections_2011_2013.csv"
    )
    parser.add_argument(
        "--licenses", type=Path, default=DATA / "business_licenses_2011_2013.csv"
    )
    parser.add_argument("--options", default="{}", help="FitOptions as JSON")
    parser.add_argument("--candidates", default="{}", help="CandidateOptions as JSON")
    parser.add_argument("--policy", type=Path, default=HERE / "chicago_policy.toml")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.data or import_chicago_to(
            args.inspections, args.licenses, Path(tmp) / "data"
        )
        data = load_dataset(folder).cut("2012-12-31")
    hand = load_policy(args.policy)
    opts = FitOptions.model_validate(json.loads(args.options))
    cands = CandidateOptions.model_validate(json.loads(args.candidates))
    print(
        "| split | fitted AUC | hand AUC | fitted, with history | hand, with history "
        "| indicators |"
    )
    print("|---|---|---|---|---|---|")
    for split, days in SPLITS:
        fit = fit_scorecard(
            data,
            as_of=split,
            horizon_days=365,
            previous=hand,
            options=opts,
            candidates=cands,
        )
        bt = backtest_from_options(
            data,
            BacktestOptions(
                as_of=split,
                horizon_days=days,
                calibrate=False,
                seeds=20,
                n_boot=200,
                baselines=("uniform", "history_rule"),
            ),
            fit.policy,
            previous=hand,
        )
        auc = bt.methods.set_index("method")["auc"]
        ranks = bt.rankings.merge(bt.scores[["uscc", "has_history"]], on="uscc")
        hist = ranks[ranks["has_history"].astype(bool)]
        y = hist["y"].astype(bool).to_numpy()
        names = ", ".join(i.name for i in fit.scorecard.indicators)
        print(
            f"| {split} | {auc['scorecard']:.4f} | {auc['previous']:.4f} "
            f"| {auc_score(y, hist['scorecard'].to_numpy()):.4f} "
            f"| {auc_score(y, hist['previous'].to_numpy()):.4f} | {names} |"
        )


if __name__ == "__main__":
    main()
