"""Stage 2: candidate features generated from the tables, and their values.

Every candidate is an ordinary scorecard :class:`~creditsup.scoring.Indicator`
without bins yet, so that the fitted scorecard computes exactly what was
fitted, through the same scoring code (:func:`candidate_values` calls
:func:`creditsup.scoring.indicators.evaluate_indicators`). Candidates come
from what the tables hold before the cut-off:

* **history**: for each result present, and for any inspection, the count
  and the share over each window and the days since the latest one; for
  each numeric extra column (``critical_count`` ...), its sum, mean and
  maximum over each window and its last value;
* **records**: for each kind present, the count and the share over each
  window, the days since the latest one, the gravest and the summed
  severity; the latest ``value`` of a kind that has values (tax level ...);
  the numeric extra columns aggregated like history's;
* **entities**: type, industry-code prefixes, region, age in days,
  ``key_supervision``, ``registered_capital`` and every extra column that is
  a category (few distinct values, e.g. a city's own risk class) or a number;
* **relationships**: other entities at the same address and with the same
  legal representative.

Identifiers (a column named ``*id``/``*_id``/``*_ids``, or nearly unique)
and constant columns are never candidates.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from creditsup.fit.options import CandidateOptions
from creditsup.fit.units import Units
from creditsup.schemas import HISTORY_RESULTS, RECORD_KINDS, SCHEMAS
from creditsup.scoring import Indicator, Scorecard, default_scorecard
from creditsup.scoring._arrays import FloatArray, IntArray, numeric_values
from creditsup.scoring.indicators import evaluate_indicators
from creditsup.scoring.records import prepare_arrays

if TYPE_CHECKING:
    from creditsup.schemas import Dataset

__all__ = [
    "Candidate",
    "candidate_indicators",
    "candidate_scorecard",
    "candidate_values",
    "window_key",
]

Kind = Literal["numeric", "categorical"]
#: Contract columns that are not extra features of their table (from the schema;
#: an entity's capital and key-supervision flag stay candidate features).
_STANDARD = {
    "history": set(SCHEMAS["history"].columns),
    "records": set(SCHEMAS["records"].columns),
    "entities": set(SCHEMAS["entities"].columns)
    - {"key_supervision", "registered_capital"},
}
_ID_NAME = re.compile(r"(^|_)ids?$|id$", re.IGNORECASE)
_SOCIAL = ("honor", "tax_credit")
_DYNAMIC = ("annual_report_late", "annual_report_missing")


@dataclass(frozen=True)
class Candidate:
    """A candidate feature: an indicator without bins, and its kind.

    ``indicator`` of a categorical candidate lists every category seen
    (points 0); a numeric one has no edges.
    """

    indicator: Indicator
    kind: Kind

    @property
    def name(self) -> str:
        """The indicator's name."""
        return self.indicator.name


def _slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return s if s and s[0].isalpha() else f"x_{s}"


def _window(w: int | None) -> str:
    return "all" if w is None else f"{w}d"


def _in_window(w: int | None) -> str:
    return "ever" if w is None else f"in the last {w} days"


def _numeric_columns(
    frame: pd.DataFrame, table: str, exclude: Sequence[str]
) -> list[str]:
    """Extra columns of ``frame`` that hold numbers (not identifiers)."""
    out = []
    for col in frame.columns:
        if col in _STANDARD[table] or col in exclude or _ID_NAME.search(col):
            continue
        v = numeric_values(frame[col])
        ok = ~np.isnan(v)
        filled = frame[col].notna().to_numpy() & (
            frame[col].astype("str").str.strip() != ""
        ).to_numpy(dtype=bool, na_value=False)
        if not ok.any() or ok.sum() < 0.9 * max(int(filled.sum()), 1):
            continue
        n_distinct = len(np.unique(v[ok]))
        if n_distinct < 2 or (n_distinct > 0.9 * ok.sum() and ok.sum() > 50):
            continue
        out.append(col)
    return out


def _text(s: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(s):
        return s.map({True: "true", False: "false"}).astype("str")
    return s.astype("str").str.strip()


def _categories(s: pd.Series, limit: int) -> list[str] | None:
    """The distinct non-empty values (sorted) when 2 to ``limit`` of them."""
    t = _text(s)
    vals = sorted({str(v) for v in t.dropna().unique() if str(v) != ""})
    return vals if 2 <= len(vals) <= limit else None


def _ind(name: str, **kw: Any) -> Indicator:
    return Indicator.model_validate({"name": name, **kw})


def _history_candidates(
    hist: pd.DataFrame, opts: CandidateOptions, problem_results: Sequence[str]
) -> list[Candidate]:
    if len(hist) == 0:
        return []
    seen = set(hist["result"].dropna())
    present = [r for r in HISTORY_RESULTS if r in seen]
    groups: list[tuple[str, tuple[str, ...], str]] = [
        (f"result '{r}'", (r,), _slug(r)) for r in present
    ]
    groups.append(("any result", tuple(present), "any"))
    out: list[Candidate] = []
    for what, results, slug in groups:
        for w in opts.windows:
            for stat in ("count", "share"):
                if stat == "share" and slug == "any":
                    continue
                out.append(
                    Candidate(
                        _ind(
                            f"hist_{slug}_{stat}_{_window(w)}",
                            dimension="supervision",
                            source="history",
                            statistic=stat,
                            results=results,
                            lookback_days=w,
                            description=f"Inspections with {what} {_in_window(w)} "
                            f"({stat}).",
                        ),
                        "numeric",
                    )
                )
        out += _smoothed_history(hist, what, results, slug, opts)
        out.append(
            Candidate(
                _ind(
                    f"hist_{slug}_days_since",
                    dimension="supervision",
                    source="history",
                    statistic="days_since",
                    results=results,
                    description=f"Days since the latest inspection with {what}.",
                ),
                "numeric",
            )
        )
    for col in _numeric_columns(hist, "history", opts.exclude_columns):
        out.extend(_aggregates("history", col, (), opts, _mean(hist[col])))
    return out


def _mean(s: pd.Series) -> float:
    """The mean of a numeric column (4 significant digits; 0 when empty)."""
    v = numeric_values(s)
    v = v[~np.isnan(v)]
    return float(f"{float(v.mean()):.4g}") if len(v) else 0.0


def _decayed(
    prefix: str, what: str, base: dict[str, Any], opts: CandidateOptions
) -> list[Candidate]:
    """Time-decayed counts of the rows ``base`` selects, one per half-life."""
    return [
        Candidate(
            _ind(
                f"{prefix}_count_hl{h}",
                statistic="count",
                half_life_days=float(h),
                description=f"{what}, each weighing half as much every {h} days "
                "(time-decayed count).",
                **base,
            ),
            "numeric",
        )
        for h in opts.half_lives
    ]


def _smoothed_history(
    hist: pd.DataFrame,
    what: str,
    results: tuple[str, ...],
    slug: str,
    opts: CandidateOptions,
) -> list[Candidate]:
    """Shrunken shares (one result) and time-decayed counts of a result group."""
    base: dict[str, Any] = {
        "dimension": "supervision",
        "source": "history",
        "results": results,
    }
    out = _decayed(f"hist_{slug}", f"Inspections with {what}", base, opts)
    if slug == "any" or opts.prior_rows <= 0:
        return out
    prior = float(f"{float(hist['result'].isin(results).mean()):.4g}")
    for w in opts.windows:
        out.append(
            Candidate(
                _ind(
                    f"hist_{slug}_share_s_{_window(w)}",
                    statistic="share",
                    lookback_days=w,
                    prior_rows=opts.prior_rows,
                    prior_value=prior,
                    description=f"Share of inspections with {what} {_in_window(w)}, "
                    f"shrunk by {opts.prior_rows:g} inspections at {prior:g}.",
                    **base,
                ),
                "numeric",
            )
        )
    return out


def _aggregates(
    source: str,
    col: str,
    kinds: tuple[str, ...],
    opts: CandidateOptions,
    prior: float,
) -> list[Candidate]:
    prefix = "hist" if source == "history" else f"rec_{_slug(kinds[0])}"
    whose = "inspections" if source == "history" else f"{kinds[0]} records"
    dim = _dimension(kinds[0]) if kinds else "supervision"
    out = []
    stats: list[tuple[str, int | None]] = [
        (s, w) for w in opts.windows for s in ("sum", "mean", "max")
    ]
    stats.append(("last", None))
    if opts.prior_rows > 0:
        stats += [("mean_s", w) for w in opts.windows]
    for stat, w in stats:
        tail = "" if stat == "last" else f"_{_window(w)}"
        shrink: dict[str, Any] = {}
        note = ""
        if stat == "mean_s":
            shrink = {"prior_rows": opts.prior_rows, "prior_value": prior}
            note = f", shrunk by {opts.prior_rows:g} rows at {prior:g}"
        out.append(
            Candidate(
                _ind(
                    f"{prefix}_{_slug(col)}_{stat}{tail}",
                    dimension=dim,
                    source=source,
                    statistic=stat[:4],
                    kinds=kinds,
                    column=col,
                    lookback_days=w,
                    description=f"{stat[:4].capitalize()} of '{col}' over the "
                    f"{whose} {'(latest)' if stat == 'last' else _in_window(w)}"
                    f"{note}.",
                    **shrink,
                ),
                "numeric",
            )
        )
    return out


def _dimension(kind: str) -> str:
    if kind in _SOCIAL:
        return "social"
    return "dynamic" if kind in _DYNAMIC else "supervision"


def _record_candidates(rec: pd.DataFrame, opts: CandidateOptions) -> list[Candidate]:
    if len(rec) == 0:
        return []
    present = set(rec["kind"].dropna())
    kinds = [k for k in RECORD_KINDS if k in present]
    has_sev = "severity" in rec.columns and bool(rec["severity"].notna().any())
    extra = _numeric_columns(rec, "records", opts.exclude_columns)
    out: list[Candidate] = []
    for k in kinds:
        slug, dim = _slug(k), _dimension(k)
        base = {"dimension": dim, "source": "records", "kinds": (k,)}
        for w in opts.windows:
            for stat in ("count", "share"):
                out.append(
                    Candidate(
                        _ind(
                            f"rec_{slug}_{stat}_{_window(w)}",
                            statistic=stat,
                            lookback_days=w,
                            description=f"Records of kind '{k}' {_in_window(w)} "
                            f"({stat}).",
                            **base,
                        ),
                        "numeric",
                    )
                )
            if has_sev:
                out.append(
                    Candidate(
                        _ind(
                            f"rec_{slug}_severity_max_{_window(w)}",
                            statistic="severity_max",
                            lookback_days=w,
                            description=f"Gravest '{k}' record {_in_window(w)}.",
                            **base,
                        ),
                        "numeric",
                    )
                )
        out += _decayed(f"rec_{slug}", f"Records of kind '{k}'", base, opts)
        out.append(
            Candidate(
                _ind(
                    f"rec_{slug}_days_since",
                    statistic="days_since",
                    description=f"Days since the latest live '{k}' record.",
                    **base,
                ),
                "numeric",
            )
        )
        of_kind = rec[rec["kind"] == k]
        if "value" in rec.columns:
            cats = _categories(of_kind["value"], opts.max_categories)
            if cats is not None:
                out.append(
                    Candidate(
                        _ind(
                            f"rec_{slug}_latest_value",
                            statistic="latest_value",
                            categories=dict.fromkeys(cats, 0.0),
                            description=f"The value of the latest live '{k}' record.",
                            **base,
                        ),
                        "categorical",
                    )
                )
        for col in extra:
            if of_kind[col].notna().any():
                out.extend(_aggregates("records", col, (k,), opts, _mean(of_kind[col])))
    return out


def _entity_candidates(
    ent: pd.DataFrame, opts: CandidateOptions, relationship: bool
) -> list[Candidate]:
    out: list[Candidate] = []
    base = {"dimension": "basic", "source": "entities", "statistic": "value"}
    columns = ["entity_type", "region", "key_supervision"]
    columns += [c for c in ent.columns if c not in _STANDARD["entities"]]
    seen: set[str] = set()
    for col in columns:
        if col not in ent.columns or col in seen or col in opts.exclude_columns:
            continue
        seen.add(col)
        if _ID_NAME.search(col) or col == "registered_capital":
            continue
        cats = _categories(ent[col], opts.max_categories)
        if cats is not None:
            out.append(
                Candidate(
                    _ind(
                        f"ent_{_slug(col)}",
                        column=col,
                        categories=dict.fromkeys(cats, 0.0),
                        description=f"The entity's '{col}'.",
                        **base,
                    ),
                    "categorical",
                )
            )
    nums = [c for c in ("registered_capital",) if c in ent.columns]
    nums += [
        c
        for c in _numeric_columns(ent, "entities", opts.exclude_columns)
        if c not in seen and c not in nums and c not in _STANDARD["entities"]
    ]
    nums = [c for c in nums if not any(o.indicator.column == c for o in out)]
    for col in nums:
        if np.isnan(numeric_values(ent[col])).all():
            continue
        out.append(
            Candidate(
                _ind(
                    f"ent_{_slug(col)}",
                    column=col,
                    description=f"The entity's '{col}' (a number).",
                    **base,
                ),
                "numeric",
            )
        )
    out.extend(_industry_candidates(ent, opts))
    out.append(
        Candidate(
            _ind(
                "ent_age_days",
                dimension="basic",
                source="entities",
                statistic="age_days",
                column="established",
                description="Days since establishment.",
            ),
            "numeric",
        )
    )
    if relationship:
        for col in ("address", "legal_rep"):
            if col in ent.columns and bool(
                _text(ent[col]).replace("", pd.NA).notna().any()
            ):
                out.append(
                    Candidate(
                        _ind(
                            f"rel_{col}",
                            dimension="relationship",
                            source="relationship",
                            column=col,
                            description=f"Other entities with the same '{col}'.",
                        ),
                        "numeric",
                    )
                )
    return out


def _industry_candidates(ent: pd.DataFrame, opts: CandidateOptions) -> list[Candidate]:
    """One categorical candidate per prefix length with new distinct values."""
    if "industry" not in ent.columns:
        return []
    codes = _text(ent["industry"])
    out: list[Candidate] = []
    last = 0
    for k in sorted(set(opts.prefix_lengths)):
        pre = sorted({str(v) for v in codes.str[:k].dropna().unique() if str(v)})
        if len(pre) <= last or not 2 <= len(pre) <= opts.max_categories:
            continue
        last = len(pre)
        out.append(
            Candidate(
                _ind(
                    f"ent_industry_{k}",
                    dimension="basic",
                    source="entities",
                    statistic="value",
                    column="industry",
                    match="prefix",
                    categories=dict.fromkeys(pre, 0.0),
                    description=f"The first {k} characters of the industry code.",
                ),
                "categorical",
            )
        )
    return out


def candidate_indicators(
    dataset: Dataset,
    *,
    cutoff: pd.Timestamp,
    options: CandidateOptions | None = None,
    problem_results: Sequence[str] = (),
) -> list[Candidate]:
    """Stage: the candidate features of ``dataset`` as of ``cutoff``.

    Only rows dated before ``cutoff`` decide which results, kinds, values and
    columns become candidates.

    Examples
    --------
    >>> from creditsup.datasets import synthetic_district
    >>> ds = synthetic_district(n_entities=300, n_inspectors=20, seed="c")
    >>> cands = candidate_indicators(ds, cutoff=pd.Timestamp("2026-01-01"))
    >>> "hist_any_count_365d" in {c.name for c in cands}
    True
    >>> sorted({c.indicator.source for c in cands})
    ['entities', 'history', 'records', 'relationship']
    """
    opts = options or CandidateOptions()
    out: list[Candidate] = []
    hist = dataset.history
    if "history" in opts.sources and len(hist):
        before = pd.to_datetime(hist["date"]) < cutoff
        out += _history_candidates(hist[before.to_numpy()], opts, problem_results)
    rec = dataset.records
    if "records" in opts.sources and len(rec):
        before = pd.to_datetime(rec["date"]) < cutoff
        out += _record_candidates(rec[before.to_numpy()], opts)
    if "entities" in opts.sources or "relationship" in opts.sources:
        ent = dataset.entities
        est = pd.to_datetime(ent["established"])
        known = ent[(est < cutoff).to_numpy(dtype=bool, na_value=True)]
        cands = _entity_candidates(known, opts, "relationship" in opts.sources)
        out += [
            c
            for c in cands
            if c.indicator.source in opts.sources
            or (c.indicator.source == "entities" and "entities" in opts.sources)
        ]
    names: set[str] = set()
    unique = []
    for c in out:  # first of each name (slugs of two columns may collide)
        if c.name not in names:
            names.add(c.name)
            unique.append(c)
    return unique


def candidate_scorecard(
    candidates: Sequence[Candidate], base: Scorecard | None = None
) -> Scorecard:
    """A scorecard holding the candidates (``base``'s problem results and
    publicity rules; the fitted scorecard keeps them)."""
    sc = base if base is not None else default_scorecard()
    return Scorecard(
        name="candidates",
        version="0",
        problem_results=sc.problem_results,
        publicity=sc.publicity,
        indicators=tuple(c.indicator for c in candidates),
    )


def candidate_values(
    dataset: Dataset,
    candidates: Sequence[Candidate],
    units: Units,
    *,
    base: Scorecard | None = None,
    chunk: int = 40,
) -> dict[str, FloatArray | IntArray]:
    """Stage: every candidate's value for every unit (entity as of its day).

    Numeric candidates give their statistic (NaN = missing); categorical
    ones the category's position among the listed categories, ``K`` for an
    unlisted value and ``-1`` when missing. Computed by the scoring code
    itself (the records are prepared once: every candidate shares the base
    scorecard's publicity rules), in chunks of ``chunk`` indicators.
    """
    out: dict[str, FloatArray | IntArray] = {}
    if len(units) == 0 or not candidates:
        return {c.name: np.zeros(0) for c in candidates}
    prep = prepare_arrays(dataset, candidate_scorecard(candidates[:1], base))
    for i in range(0, len(candidates), chunk):
        part = list(candidates[i : i + chunk])
        sc = candidate_scorecard(part, base)
        ev = evaluate_indicators(dataset, sc, prep, units.ent, units.day)
        for c in part:
            if c.kind == "numeric":
                out[c.name] = ev.values[c.name]
            else:
                b = ev.bins[c.name].astype(np.int64)
                k = len(c.indicator.categories)
                out[c.name] = np.where(b == k + 1, -1, b)
    return out


def window_key(candidate: Candidate) -> tuple[str, float]:
    """The candidate's definition without its window, and the window's length
    (all the past: infinite): two candidates with the same definition differ
    only in their window.

    Examples
    --------
    >>> a, b = (Candidate(_ind(f"c_{_window(w)}", dimension="supervision",
    ...                        source="history",
    ...                        lookback_days=w), "numeric") for w in (90, None))
    >>> window_key(a)[0] == window_key(b)[0], window_key(a)[1] < window_key(b)[1]
    (True, True)
    """
    ind = candidate.indicator
    d = ind.model_dump(exclude={"name", "description", "lookback_days"})
    w = ind.lookback_days
    return repr(sorted(d.items())), float("inf") if w is None else float(w)
