"""Markdown from ``results/run.json``: the results page and the README speed table.

The README's speed table is never typed by hand: ``run.py --readme README.md``
(or ``python benchmarks/_report.py README.md``) rewrites the block between
``<!-- speed-table:start -->`` and ``<!-- speed-table:end -->`` from the JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

START, END = "<!-- speed-table:start -->", "<!-- speed-table:end -->"


def _s(x: float) -> str:
    return f"{x:.3f} s" if x < 1 else f"{x:.2f} s" if x < 10 else f"{x:.1f} s"


def _assignment_lines(sc: dict[str, Any]) -> list[str]:
    """Candidate arcs and cross-region share, after (and before) when recorded."""
    rows = []
    for col in ("before", "after"):
        r = sc.get(col, {})
        if r.get("candidate_arcs") is not None:
            rows.append(
                f"{col}: {r['candidate_arcs']:,} candidate arcs in the first flow "
                f"round, {r['unfilled']} unfilled, cross-region share of the slots "
                f"{r['cross_region_share']:.4f}"
            )
    return [*("- " + r for r in rows), ""] if rows else []


def _mib(x: float) -> str:
    return f"{x:,.0f} MiB"


def _stage_table(sc: dict[str, Any], stages: list[str]) -> list[str]:
    a, b = sc["after"], sc.get("before")
    head = "| stage | wall (median) | CPU | peak RSS after stage |"
    rule = "|---|---:|---:|---:|"
    if b:
        head += " before: wall | before: CPU | before: peak RSS | speed-up, wall | speed-up, CPU |"
        rule += "---:|---:|---:|---:|---:|"
    lines = [head, rule]
    for s in stages:
        if s not in a["stages"]:
            continue
        r = a["stages"][s]
        line = f"| {s} | {_s(r['wall_s'])} | {_s(r['cpu_s'])} | {_mib(r['peak_rss_mib'])} |"
        if b and s in b["stages"]:
            q = b["stages"][s]
            line += (
                f" {_s(q['wall_s'])} | {_s(q['cpu_s'])} | {_mib(q['peak_rss_mib'])} | "
                f"{sc['speedup'][s]:.1f}× | {q['cpu_s'] / max(r['cpu_s'], 1e-9):.1f}× |"
            )
        lines.append(line)
    total = f"| **end to end** | **{_s(a['end_to_end_s'])}** | {_s(a['cpu_s'])} | **{_mib(a['peak_rss_mib'])}** |"
    if b:
        total += (
            f" **{_s(b['end_to_end_s'])}** | {_s(b['cpu_s'])} | **{_mib(b['peak_rss_mib'])}** | "
            f"**{sc['speedup']['end_to_end']:.1f}×** | {b['cpu_s'] / max(a['cpu_s'], 1e-9):.1f}× |"
        )
    return [*lines, total]


def _note(key: str, r: dict[str, Any], visits: int) -> str:
    """What the baseline gives for its time (not only how long it takes)."""
    if key == "naive_scoring":
        return f"{r['subset_entities']:,} entities timed, scaled linearly"
    if key == "naive_draw":
        return (
            f"{r['visits']:,} visits (ours {visits:,}): no budget, caps cut afterwards"
        )
    if key == "cpsat":
        return (
            f"{r['groups_sampled']} of {r['groups_total']} groups timed; objective "
            f"{r['cpsat_objective']:,} vs MCF {r['mcf_objective']:,} on them"
        )
    share = r["filled_tasks"] / max(r["tasks"], 1)
    return (
        f"fills {share:.1%} of {r['tasks']:,} tasks, {r['cross_region_slots']:,} "
        "cross-region slots; no pair/prior-visit randomisation, no repair"
    )


def _baseline_scope(bl: dict[str, Any]) -> str:
    """On what rows the baselines ran, and how to read "ours"."""
    smp = bl.get("sample")
    if smp:
        rows = (
            f"a keyed uniform sample of {smp['entities']:,} of {smp['of_entities']:,} "
            f"entities with all their rows ({smp['inspectors']:,} of "
            f"{smp['of_inspectors']:,} inspectors, the same share; `_sample.py`)"
        )
    elif "entities" in bl:
        rows = f"the whole dataset ({bl['entities']:,} entities)"
    else:  # recorded before the baselines said what they ran on
        rows = "the whole dataset"
    text = (
        f"Baselines on {rows}. *ours* is our own stage timed in the same process "
        "on the same rows, so each ratio compares like with like (not the plan's "
        "figures above" + (", which are for the whole district)." if smp else ").")
    )
    if "peak_rss_mib" in bl:
        text += (
            f" Peak RSS of the baselines process: {_mib(bl['peak_rss_mib'])}; "
            f"{_s(bl['wall_s'])} in all"
            + (f", measured {bl['measured_at']}." if bl.get("measured_at") else ".")
        )
    return text


def _baseline_table(bl: dict[str, Any], visits: int) -> list[str]:
    names = {
        "naive_scoring": "scoring: naive pandas (`groupby().apply`)",
        "naive_draw": "draw: `groupby().sample`, caps afterwards",
        "cpsat": "assignment: monolithic CP-SAT per department-month",
        "greedy": "assignment: randomised greedy",
    }
    smp = bl.get("sample")
    on = f" ({smp['entities']:,}-entity sample)" if smp else ""
    visits = bl.get("visits", visits)
    lines = [
        _baseline_scope(bl),
        "",
        "| baseline | its time | ours, same rows | ratio (its / ours) | peak RSS after | note |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for key, label in names.items():
        if key not in bl:
            continue
        r = bl[key]
        note = " (extrapolated)" if r.get("extrapolated") else ""
        rss = _mib(r["peak_rss_mib"]) if "peak_rss_mib" in r else "–"
        lines.append(
            f"| {label}{on} | {_s(r['wall_s'])}{note} | {_s(r['ours_s'])} | "
            f"{r['wall_s'] / max(r['ours_s'], 1e-9):.1f}× | {rss} | "
            f"{_note(key, r, visits)} |"
        )
    return lines


def _nation_section(name: str, sc: dict[str, Any]) -> list[str]:
    """A nation scenario: the draw only, out of core, on Dask."""
    a = sc["after"]
    gen = a.get("generate_first_run") or {}
    head = (
        f"The draw only, out of core: {sc['files']} Parquet files read with "
        "`dask.dataframe.read_parquet`, `draw_partitioned` + `dask_mapper` on "
        + (
            "Dask's threaded scheduler (2 threads)."
            if a["scheduler"] == "threads"
            else "a 2-worker `LocalCluster` (one thread each)."
        )
        + " CPU and peak RSS are those of the whole process tree (driver and workers)."
    )
    if a.get("aborted"):
        stop = a["aborted"]
        head += (
            f" **Stopped** in stage *{stop['stage']}* when the process tree passed "
            f"{_mib(sc['max_rss_mib'])} (RSS {_mib(stop['rss_mib'])}), "
            f"{a.get('partitions_done')} of {sc['files']} partitions done in that "
            "stage: the stages below are those measured until then."
        )
    else:
        head += f" {a['visits']:,} visits, {a['checks']:,} checks."
    lines = [
        f"## {name}: {sc['entities']:,} entities, {sc['inspectors']:,} inspectors",
        "",
        head + f" Measured {sc['measured_at']}.",
        "",
        "| stage | wall | CPU | peak RSS in stage |",
        "|---|---:|---:|---:|",
    ]
    for s in sc["stage_names"]:
        r = a["stages"].get(s)
        if r is None:
            continue
        note = ""
        if s == "generate" and a.get("generate_cached") and gen:
            note = f" (reused; written in {_s(gen['wall_s'])})"
        lines.append(
            f"| {s}{note} | {_s(r['wall_s'])} | {_s(r['cpu_s'])} | "
            f"{_mib(r['peak_rss_mib'])} |"
        )
    lines += [
        f"| **the draw (read to result)** | **{_s(a['end_to_end_s'])}** | "
        f"{_s(a['cpu_s'])} | **{_mib(a['peak_rss_mib'])}** |",
        "",
    ]
    t = sc.get("target", {})
    if t.get("wall_s"):
        ok = (
            not a.get("aborted")
            and a["end_to_end_s"] <= t["wall_s"]
            and a["peak_rss_mib"] <= t["peak_rss_mib"]
        )
        lines += [
            f"Target ≤ {t['wall_s']:g} s and ≤ {_mib(t['peak_rss_mib'])}: "
            f"{'met' if ok else 'missed'}.",
            "",
        ]
    return lines


def markdown(doc: dict[str, Any]) -> str:
    """The results page: one table per scenario, baselines, exponents."""
    out = ["# `creditsup plan`, stage by stage (`benchmarks/run.py`)", ""]
    m = doc["machine"]
    out += [
        f"Python {m['python']} on {m['cpus']} CPUs, shared with other jobs (1-minute "
        f"load {m['load_average_1m_at_end']} at the end): read ratios measured in one "
        "run, not seconds. Wall and CPU are medians over the repeats, each repeat a "
        "fresh process; peak RSS is the process's high-water mark after the stage.",
        "",
    ]
    for name, sc in doc["scenarios"].items():
        a = sc["after"]
        if sc.get("kind") == "nation":
            out += _nation_section(name, sc)
            continue
        out += [
            f"## {name}: {sc['entities']:,} entities, {sc['inspectors']:,} inspectors",
            "",
            f"{a['visits']:,} visits, {a['assignments']:,} assignments, {a['unfilled']} "
            f"unfilled; {sc['repeats']} run(s), measured {sc['measured_at']}, spread "
            f"of end-to-end wall {a['spread']:.0%}.",
            "",
            *_stage_table(sc, doc["stages"]),
            "",
            *_assignment_lines(sc),
        ]
        t = sc.get("target", {})
        if t.get("wall_s"):
            ok = (
                a["end_to_end_s"] <= t["wall_s"]
                and a["peak_rss_mib"] <= t["peak_rss_mib"]
            )
            out += [
                f"Target ≤ {t['wall_s']:g} s and ≤ {_mib(t['peak_rss_mib'])}: "
                f"{'met' if ok else 'missed'}.",
                "",
            ]
        if "identical_bundle" in sc:
            same = "the same bytes" if sc["identical_bundle"] else "DIFFERENT bytes"
            algos = [sc.get(c, {}).get("algorithm") for c in ("before", "after")]
            why = ""
            if not sc["identical_bundle"]:
                why = (
                    f": the draw algorithm changed ({algos[0]} → {algos[1]})"
                    if None not in algos and algos[0] != algos[1]
                    else ": expected only where the draw algorithm changed "
                    "(`provenance.json` → `algorithm`)"
                )
            out += [f"Before and after wrote {same} (whole bundle, SHA-256){why}.", ""]
        if "baselines" in sc:
            out += [*_baseline_table(sc["baselines"], a["visits"]), ""]
        elif "baselines_error" in sc:
            out += [f"The baselines did not run: {sc['baselines_error']}", ""]
    if doc.get("exponents"):
        out += [
            "## Growth exponents (CPU time ∝ entities^b)",
            "",
            "Fitted on the CPU medians of the scenarios above (peak RSS for `peak_rss`). The "
            "fit over all sizes is pulled down by fixed costs at the small sizes; the two "
            "largest scenarios show the growth at scale (1.0 is linear).",
            "",
            "| stage | b, all sizes | b, two largest |",
            "|---|---:|---:|",
            *(
                f"| {k} | {v['all_sizes']:.2f} | {v['two_largest']:.2f} |"
                for k, v in doc["exponents"].items()
            ),
            "",
        ]
    return "\n".join(out)


def readme_table(doc: dict[str, Any]) -> str:
    """The README's speed table: end to end (wall and CPU) and peak RSS per scenario."""
    lines = [
        "| scenario | entities | inspectors | end to end: wall | CPU | peak RSS "
        "| before: wall | CPU | peak RSS | speed-up, wall | CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, sc in doc["scenarios"].items():
        a, b = sc["after"], sc.get("before")
        if sc.get("kind") == "nation":
            stopped = " (stopped)" if a.get("aborted") else ""
            lines.append(
                f"| {name} (the draw only, Dask){stopped} | {sc['entities']:,} | "
                f"{sc['inspectors']:,} | {_s(a['end_to_end_s'])} | {_s(a['cpu_s'])} | "
                f"{_mib(a['peak_rss_mib'])} | – | – | – | – | – |"
            )
            continue
        before = (
            f"{_s(b['end_to_end_s'])} | {_s(b['cpu_s'])} | {_mib(b['peak_rss_mib'])}"
            if b
            else "– | – | –"
        )
        speed = (
            f"{sc['speedup']['end_to_end']:.1f}× | {b['cpu_s'] / a['cpu_s']:.1f}×"
            if b
            else "– | –"
        )
        lines.append(
            f"| {name} | {sc['entities']:,} | {sc['inspectors']:,} | "
            f"{_s(a['end_to_end_s'])} | {_s(a['cpu_s'])} | {_mib(a['peak_rss_mib'])} | "
            f"{before} | {speed} |"
        )
    return "\n".join(lines)


def update_readme(path: Path, table: str) -> None:
    """Replace the block between the speed-table markers of ``path``."""
    text = path.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"{path} has no {START} … {END} block")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    note = (
        "<!-- generated by `python benchmarks/run.py --readme README.md` from "
        "benchmarks/results/run.json; do not edit by hand -->"
    )
    path.write_text(f"{head}{START}\n{note}\n\n{table}\n\n{END}{tail}")


if __name__ == "__main__":
    doc = json.loads((Path(__file__).parent / "results" / "run.json").read_text())
    update_readme(Path(sys.argv[1]), readme_table(doc))
