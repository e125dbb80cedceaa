"""Stage 7a: the backtest as GitHub-flavoured markdown."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from creditsup.evaluate.result import BacktestResult

__all__ = ["markdown", "markdown_table"]

_METHOD_COLUMNS = {
    "method": "method",
    "auc (95% CI)": "auc (95% CI)",
    "scorecard − method AUC (95% CI)": "scorecard − method AUC (95% CI)",
    "hit_rate": "hit rate (exact)",
    "simulated (95% range)": "simulated (95% range)",
    "lift": "lift vs uniform",
    "scorecard_wins": "draws won by scorecard",
    "floor": "floor",
}
_TIER_COLUMNS = (
    "tier",
    "n",
    "events",
    "rate (95% CI)",
    "mean_predicted",
    "pi",
    "budget_share",
)
_GROUP_COLUMNS = ("group", "n", "events", "rate (95% CI)", "auc", "mean_score")

#: The report's words in Chinese: English header or value -> Chinese.
_ZH_WORDS = {
    "method": "方法",
    "auc (95% CI)": "AUC（95% 置信区间）",
    "scorecard − method AUC (95% CI)": "评分卡减该方法的 AUC（95% 置信区间）",
    "hit rate (exact)": "命中率（精确值）",
    "simulated (95% range)": "模拟命中率（95% 范围）",
    "lift vs uniform": "相对均匀抽取的提升",
    "draws won by scorecard": "评分卡胜出的模拟占比",
    "floor": "最低入选概率",
    "tier": "风险分类",
    "n": "主体数",
    "events": "事件数",
    "rate (95% CI)": "事件率（95% 置信区间）",
    "mean_predicted": "平均预测概率",
    "pi": "入选概率",
    "budget_share": "检查量占比",
    "group": "分组",
    "auc": "AUC",
    "mean_score": "平均分值",
    "scorecard": "评分卡",
    "uniform": "均匀抽取",
    "history_rule": "按检查历史",
    "uncalibrated": "未校准的评分卡",
    "city_risk": "城市风险等级",
    "previous": "原评分卡",
    "with_history": "分割日前有检查记录",
    "no_history": "分割日前无检查记录",
}

#: The report's sentences: ``key -> (Chinese, English)``.
_TEXT = {
    "title": (
        "# 回测：分割日 {as_of}（观察期 {horizon_days} 天）",
        "# Backtest as of {as_of} ({horizon_days}-day horizon)",
    ),
    "calibrated": (
        "用 {as_of} 之前的检查结果校准",
        "calibrated on inspections before {as_of}",
    ),
    "not_calibrated": ("未校准", "not calibrated"),
    "scores": (
        "评分基准日 {scored_as_of}（评分卡 `{name}`，{calibrated}）；结果取 {w0} … {w1} "
        "期间首次{triggers}的检查结果 `{outcome}`。已评价 {n_evaluated} 个主体"
        "（共 {n_rated} 个已分类主体），事件 {n_events} 起（事件率 {rate:.3f}）。",
        "Scores as of {scored_as_of} (scorecard `{name}`, {calibrated}); outcome "
        "`{outcome}` at the first {triggers} inspection in {w0} … {w1}. "
        "{n_evaluated} of {n_rated} rated entities evaluated, {n_events} events "
        "(rate {rate:.3f}).",
    ),
    "methods": ("## 相同检查量下各方法的比较", "## Methods at the same budget"),
    "budget": (
        "预计检查 {budget:.1f} 户次；最低入选概率 {floor:.3f}；A 类占检查量 "
        "{share_a:.3f}；检查上限均满足：{caps}；模拟抽取 {seeds} 次，自助重抽样 "
        "{n_boot} 次。",
        "Expected visits {budget:.1f}; floor (smallest inclusion probability) "
        "{floor:.3f}; share of the budget on tier A {share_a:.3f}; caps hold: "
        "{caps}; {seeds} simulated draws, {n_boot} bootstrap resamples.",
    ),
    "by_tier": ("## 各风险分类的事件率（评分卡）", "## Event rate by tier (scorecard)"),
    "by_history": (
        "## 分割日前有无检查记录的主体",
        "## Entities with and without history before the split",
    ),
    "calibration": ("## 校准", "## Calibration"),
    "brier": (
        "Brier 分数 {brier}；以上一期事件率作常数预测时为 {reference}（技能分 {skill}）。",
        "Brier score {brier} against {reference} for a constant forecast at the "
        "previous window's rate (skill {skill}).",
    ),
}


def _t(key: str, lang: str, **values: Any) -> str:
    zh, en = _TEXT[key]
    return (zh if lang == "zh" else en).format(**values)


def _words(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Headers and the method/group names in ``lang`` (numbers unchanged)."""
    if lang != "zh":
        return df
    out = df.rename(columns=lambda c: _ZH_WORDS.get(str(c), str(c)))
    first = out.columns[0]
    out[first] = [_ZH_WORDS.get(str(v), v) for v in out[first]]
    return out


def _fmt(x: Any, digits: int = 3) -> str:
    if isinstance(x, float | np.floating):
        if not math.isfinite(float(x)):
            return "–"
        return f"{float(x):.{digits}f}"
    return str(x)


def markdown_table(df: pd.DataFrame, digits: int = 3) -> str:
    """A frame as a markdown table (floats with ``digits``, NaN as '–').

    Examples
    --------
    >>> print(markdown_table(pd.DataFrame({"a": [1], "b": [float("nan")]})))
    | a | b |
    |---|---|
    | 1 | – |
    """
    head = "| " + " | ".join(str(c) for c in df.columns) + " |"
    sep = "|" + "|".join("---" for _ in df.columns) + "|"
    body = [
        "| " + " | ".join(_fmt(v, digits) for v in row) + " |"
        for row in df.itertuples(index=False)
    ]
    return "\n".join([head, sep, *body])


def _with_rate_interval(df: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    out = df.copy()
    out["rate (95% CI)"] = [
        f"{r.rate:.3f} [{r.rate_lo:.3f}, {r.rate_hi:.3f}]" if r.n else "–"
        for r in out.itertuples()
    ]
    return out.loc[:, list(columns)]


def _methods_table(methods: pd.DataFrame) -> pd.DataFrame:
    meth = methods.copy()
    meth["auc (95% CI)"] = [
        f"{r.auc:.3f} [{r.auc_lo:.3f}, {r.auc_hi:.3f}]" for r in meth.itertuples()
    ]
    meth["scorecard − method AUC (95% CI)"] = [
        "–"
        if r.method == "scorecard"
        else f"[{r.auc_diff_lo:+.3f}, {r.auc_diff_hi:+.3f}]"
        for r in meth.itertuples()
    ]
    meth["simulated (95% range)"] = [
        f"{r.hit_rate_sim:.3f} [{r.hit_rate_sim_lo:.3f}, {r.hit_rate_sim_hi:.3f}]"
        for r in meth.itertuples()
    ]
    return meth.loc[:, list(_METHOD_COLUMNS)].rename(columns=_METHOD_COLUMNS)


def _intro(m: dict[str, Any], lang: str) -> list[str]:
    from creditsup.labels import value_label

    calibrated = (
        _t("calibrated", lang, as_of=m["as_of"])
        if m["calibrated"]
        else _t("not_calibrated", lang)
    )
    sep = "、" if lang == "zh" else "/"
    triggers = sep.join(
        value_label("trigger", t, lang) if lang == "zh" else str(t)
        for t in m["outcome_triggers"]
    )
    caps = m["caps_hold"]
    if lang == "zh":
        caps = value_label("joint", bool(caps), "zh")
    return [
        _t("title", lang, as_of=m["as_of"], horizon_days=m["horizon_days"]),
        "",
        _t(
            "scores",
            lang,
            scored_as_of=m["scored_as_of"],
            name=m["scorecard"]["name"],
            calibrated=calibrated,
            outcome=m["outcome"],
            triggers=triggers,
            w0=m["window"][0],
            w1=m["window"][1],
            n_evaluated=f"{m['n_evaluated']:,}",
            n_rated=f"{m['n_rated']:,}",
            n_events=f"{m['n_events']:,}",
            rate=m["event_rate"],
        ),
        "",
        _t("methods", lang),
        "",
        _t(
            "budget",
            lang,
            budget=m["budget"],
            floor=m["floor"],
            share_a=m["budget_share_A"],
            caps=caps,
            seeds=m["seeds"],
            n_boot=m["n_boot"],
        ),
        "",
    ]


def _brier(m: dict[str, Any], lang: str) -> str:
    skill = m["brier_skill"] if m["brier_skill"] is not None else float("nan")
    return _t(
        "brier",
        lang,
        brier=_fmt(m["brier"], 4),
        reference=_fmt(m["brier_reference"], 4),
        skill=_fmt(skill, 3),
    )


def markdown(res: BacktestResult, lang: str = "en") -> str:
    """Stage: the report of :meth:`BacktestResult.to_markdown`, in ``lang``."""
    lines = [
        *_intro(res.metrics, lang),
        markdown_table(_words(_methods_table(res.methods), lang)),
        "",
        _t("by_tier", lang),
        "",
        markdown_table(_words(_with_rate_interval(res.tiers, _TIER_COLUMNS), lang)),
        "",
        _t("by_history", lang),
        "",
        markdown_table(_words(_with_rate_interval(res.groups, _GROUP_COLUMNS), lang)),
        "",
        _t("calibration", lang),
        "",
        _brier(res.metrics, lang),
        "",
    ]
    return "\n".join(lines)
