"""Validate the fit on Chicago inside the training window (nothing from 2013).

The dataset is cut at 2012-12-31. For each validation split (as of 2012-07-01
with 184 days of outcomes, as of 2012-10-01 with 92, the splits the hand card
was designed on), a scorecard is fitted before the split (365-day horizon) and
backtested after it, against the hand-designed card of
``examples/chicago_policy.toml`` calibrated before the split, on the same
licences. Prints the AUC of both, overall and among licences with history,
the lift of both at the hand policy's ratios, and the mix-standardised AUC:
the evaluated licences weighted so that those with history make up their
share among all licences established before the split (the validation sets
have far less history than the licences a card will rank).

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

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from creditsup.chicago import import_chicago_to
from creditsup.evaluate import BacktestOptions, auc_score
from creditsup.evaluate.backtest import backtest_from_options
from creditsup.fit import CandidateOptions, FitOptions, fit_scorecard
from creditsup.plan import load_policy
from creditsup.schemas import Dataset, load_dataset

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "chicago"
SPLITS = (("2012-07-01", 184), ("2012-10-01", 92))


def _mix_weights(data: Dataset, split: str, has: np.ndarray) -> np.ndarray:
    """Weights giving the evaluated licences with history the share they have
    among all licences established before the split (known at the split)."""
    k = pd.Timestamp(split)
    est = pd.to_datetime(data.entities["established"], errors="coerce")
    alive = data.entities["uscc"][(est < k).to_numpy()]
    hd = pd.to_datetime(data.history["date"])
    seen = set(data.history["uscc"][(hd < k).to_numpy()])
    target = float(alive.isin(seen).mean())
    share = float(has.mean())
    return np.where(has, target / share, (1 - target) / (1 - share))


def _auc(ranks: pd.DataFrame, method: str, w: np.ndarray) -> float:
    y = ranks["y"].astype(bool).to_numpy()
    return float(roc_auc_score(y, ranks[method].to_numpy(), sample_weight=w))


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
        "| fitted lift | hand lift | fitted, mix | hand, mix | indicators |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
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
        lift = bt.methods.set_index("method")["lift"]
        ranks = bt.rankings.merge(bt.scores[["uscc", "has_history"]], on="uscc")
        has = ranks["has_history"].astype(bool).to_numpy()
        hist = ranks[has]
        mix = _mix_weights(data, split, has)
        y = hist["y"].astype(bool).to_numpy()
        names = ", ".join(i.name for i in fit.scorecard.indicators)
        print(
            f"| {split} | {auc['scorecard']:.4f} | {auc['previous']:.4f} "
            f"| {auc_score(y, hist['scorecard'].to_numpy()):.4f} "
            f"| {auc_score(y, hist['previous'].to_numpy()):.4f} "
            f"| {lift['scorecard']:.3f} | {lift['previous']:.3f} "
            f"| {_auc(ranks, 'scorecard', mix):.4f} | {_auc(ranks, 'previous', mix):.4f} "
            f"| {names} |"
        )


if __name__ == "__main__":
    main()
