"""Statistical tests of the draw: inclusion probabilities, coordination, power.

Every test runs ~2,000 independent keys (seed strings) on a small pool and
compares per-unit inclusion frequencies with their target (or Monte Carlo)
probabilities: per-unit z-scores with a Bonferroni bound and a dispersion
chi-square, both at alpha = 1e-3. A power check shows that the same test
rejects deliberately biased samplers. Seeds are fixed, so the tests are
deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from scipy import stats

from creditsup._random import derive_key, keyed_uniform
from creditsup.sampling import SamplingPolicy, estimate_inclusion
from creditsup.sampling.pipeline import draw_once, prepare
from creditsup.schemas import Dataset, validate_dataset
from creditsup.uscc import generate

YEAR = 2027
ALPHA = 1e-3
R = 2000
NO_CAPS = {t: None for t in "ABCDE"}


def stats_district(n: int = 240, seed: int = 0) -> tuple[Dataset, pd.DataFrame]:
    """Three items: M1 (general) and F1 (key) share group G1; P1 stands alone."""
    rng = np.random.default_rng(seed)
    ids = generate(n, rng=rng)
    entities = pd.DataFrame(
        {
            "uscc": ids,
            "name": "e",
            "entity_type": "enterprise",
            "industry": np.where(np.arange(n) % 2 == 0, "F5211", "C1391"),
            "region": "140902",
            "established": "2010-01-01",
            "status": "active",
        }
    )
    items = pd.DataFrame(
        {
            "item_id": ["F1", "M1", "P1"],
            "department": ["food", "market", "price"],
            "name": ["f", "m", "p"],
            "legal_basis": ["law"] * 3,
            "kind": ["key", "general", "general"],
            "industries": ["F52", "*", "*"],
            "joint_group": ["G1", "G1", ""],
        }
    )
    inspectors = pd.DataFrame(
        {
            "inspector_id": ["i1", "i2", "i3"],
            "name": "x",
            "department": ["food", "market", "price"],
            "region": "140902",
            "expertise": "general",
            "monthly_capacity": 50,
        }
    )
    ds = validate_dataset(
        {"entities": entities, "items": items, "inspectors": inspectors}
    )
    tiers = pd.DataFrame(
        {"uscc": ds.entities["uscc"], "tier": np.array(list("ABCD"))[np.arange(n) % 4]}
    )
    return ds, tiers


@pytest.fixture(scope="module")
def district() -> tuple[Dataset, pd.DataFrame]:
    return stats_district()


@dataclass(frozen=True)
class Verdict:
    p_dispersion: float  # smallest per-block p, Bonferroni-adjusted
    max_abs_z: float
    z_crit: float
    n_units: int

    @property
    def rejected(self) -> bool:
        return self.p_dispersion < ALPHA or self.max_abs_z > self.z_crit


def inclusion_test(
    counts: npt.ArrayLike,
    pi: npt.ArrayLike,
    n_keys: int,
    block: npt.ArrayLike | None = None,
    extra_var: npt.ArrayLike = 0.0,
) -> Verdict:
    """Per-unit z-scores and dispersion chi-squares of counts vs Binomial(R, pi).

    Units in one ``block`` (one check item) are independent across entities;
    the checks of one entity by several items are not (shared start points),
    so the dispersion chi-square runs per block and is Bonferroni-combined.
    ``extra_var`` inflates the variance by ``(1 + extra_var)`` when ``pi`` is
    itself an estimate (Monte Carlo from independent keys).
    """
    x = np.asarray(counts, dtype=float)
    p = np.asarray(pi, dtype=float)
    blk = np.zeros(len(x)) if block is None else np.asarray(block)
    ev = np.broadcast_to(np.asarray(extra_var, dtype=float), x.shape)
    inner = (p > 0) & (p < 1)
    # units with pi in {0, 1} must be never / always drawn
    assert np.all(x[p == 0] == 0) and np.all(x[p == 1] == n_keys)
    x, p, blk, ev = x[inner], p[inner], blk[inner], ev[inner]
    z = (x - n_keys * p) / np.sqrt(n_keys * p * (1 - p) * (1 + ev))
    p_blocks = []
    for b in np.unique(blk):
        zb = z[blk == b]
        c, m = float((zb**2).sum()), len(zb)
        p_blocks.append(2 * min(stats.chi2.sf(c, m), stats.chi2.cdf(c, m)))
    p_disp = min(1.0, min(p_blocks) * len(p_blocks))
    z_crit = float(stats.norm.isf(ALPHA / (2 * len(z))))
    return Verdict(float(p_disp), float(np.abs(z).max()), z_crit, len(z))


def entity_counts(
    ds: Dataset, tiers: pd.DataFrame, policy: SamplingPolicy, seed: str
) -> pd.DataFrame:
    inc = estimate_inclusion(
        ds, tiers, policy, year=YEAR, n_keys=R, seed=seed, by="entity"
    )
    inc = inc[inc["item_id"] != "(any)"].reset_index(drop=True)
    inc["x_drawn"] = np.rint(inc["pi_drawn"] * R).astype(int)
    inc["x_final"] = np.rint(inc["pi_final"] * R).astype(int)
    return inc


# ------------------------------------------------------------------- tests
def test_poisson_prn_inclusion_matches_target(
    district: tuple[Dataset, pd.DataFrame],
) -> None:
    ds, tiers = district
    inc = entity_counts(ds, tiers, SamplingPolicy(caps=NO_CAPS), "poisson")
    v = inclusion_test(inc["x_final"], inc["target_pi"], R, inc["item_id"])
    assert v.n_units > 300
    assert not v.rejected, v


def test_srswor_prn_inclusion_matches_n_over_N(
    district: tuple[Dataset, pd.DataFrame],
) -> None:
    ds, tiers = district
    policy = SamplingPolicy(ratio_mode="fixed", caps=NO_CAPS)
    inc = entity_counts(ds, tiers, policy, "srswor")
    # n_h / N_h with n_h = ceil(ratio x N_h) (R07)
    v = inclusion_test(inc["x_final"], inc["target_pi"], R, inc["item_id"])
    assert not v.rejected, v
    # and every draw has exactly n_h units per stratum
    design = prepare(ds, tiers, policy, YEAR)
    for k in range(20):
        d = draw_once(design, f"size#{k}")
        for i, alloc in enumerate(design.alloc.stratum_n):
            assert alloc is not None
            assert (d.checks.item == i).sum() == alloc.sum()


def test_capped_inclusion_matches_monte_carlo(
    district: tuple[Dataset, pd.DataFrame],
) -> None:
    """With binding caps, frequencies match MC probabilities from other keys."""
    ds, tiers = district
    policy = SamplingPolicy(
        caps={t: 1 for t in "ABCD"},
        coverage_tiers=("D",),
        coordination="negative",
        merge="joint_group",
    )
    a = entity_counts(ds, tiers, policy, "set-one")
    b = entity_counts(ds, tiers, policy, "set-two")
    # the cap binds: final inclusion is below the nominal one for C and D
    by_tier = b.groupby("tier")[["target_pi", "pi_drawn", "pi_final"]].mean()
    assert by_tier.loc["D", "pi_final"] < by_tier.loc["D", "target_pi"] - 0.1
    # entities with the same tier and the same applicable items are exchangeable
    scope = b.groupby("uscc")["item_id"].agg(lambda s: ";".join(sorted(s)))
    b["cell"] = b["tier"] + "|" + b["uscc"].map(scope) + "|" + b["item_id"]
    a["cell"] = b["cell"]
    assert (a[["uscc", "item_id"]] == b[["uscc", "item_id"]]).all().all()
    cell = b.groupby("cell").agg(pi=("pi_final", "mean"), size=("uscc", "size"))
    pi_hat = a["cell"].map(cell["pi"]).to_numpy()
    size = a["cell"].map(cell["size"]).to_numpy()
    v = inclusion_test(a["x_final"], pi_hat, R, a["item_id"], extra_var=1.0 / size)
    assert v.n_units > 300
    assert not v.rejected, v


def test_power_biased_samplers_are_rejected(
    district: tuple[Dataset, pd.DataFrame],
) -> None:
    """The same test rejects a sampler with a skewed PRN or a row-order bias."""
    ds, tiers = district
    ids = ds.entities["uscc"].to_numpy(dtype=object)
    pi = tiers["tier"].map(SamplingPolicy().ratios).to_numpy()
    skewed = np.zeros(len(ids))
    row_biased = np.zeros(len(ids))
    control = np.zeros(len(ids))
    first_half = np.arange(len(ids)) < len(ids) // 2
    for k in range(R):
        u = keyed_uniform(ids, derive_key(f"power#{k}", YEAR, "prn"))
        skewed += u**1.1 < pi  # a subtly wrong PRN transform
        row_biased += u < np.where(first_half, pi * 1.1, pi)  # favours early rows
        control += u < pi
    assert not inclusion_test(control, pi, R).rejected
    assert inclusion_test(skewed, pi, R).rejected
    assert inclusion_test(row_biased, pi, R).rejected


def _interval_overlap(p1: float, p2: float, shift: float) -> float:
    """|[0, p1) ∩ [shift, shift + p2) (mod 1)| on the unit circle."""
    total = 0.0
    for lo in (shift - 1.0, shift):
        total += max(0.0, min(p1, lo + p2) - max(0.0, lo))
    return total


def test_start_points_coordinate_overlap(
    district: tuple[Dataset, pd.DataFrame],
) -> None:
    """Same start: overlap = sum min(pi1, pi2); spread starts: the minimum."""
    ds, tiers = district
    policy = SamplingPolicy(caps=NO_CAPS, coordination="mix", merge="joint_group")
    design = prepare(ds, tiers, policy, YEAR)
    item = {str(x): i for i, x in enumerate(design.ctx.item_ids)}
    n_keys = 400
    same, across = [], []
    for k in range(n_keys):
        d = draw_once(design, f"overlap#{k}")
        ent, it = d.checks.ent, d.checks.item
        sets = {i: set(ent[it == i].tolist()) for i in item.values()}
        same.append(len(sets[item["F1"]] & sets[item["M1"]]))
        across.append(len(sets[item["M1"]] & sets[item["P1"]]))
    pools = {
        i: dict(zip(design.pools.pools[i], design.alloc.pool_pi[i], strict=True))
        for i in item.values()
    }
    f1, m1, p1 = pools[item["F1"]], pools[item["M1"]], pools[item["P1"]]
    exp_same = sum(min(pi, m1[e]) for e, pi in f1.items() if e in m1)
    # two groups (G1, dept:price) get start points half a circle apart
    exp_across = sum(_interval_overlap(pi, p1[e], 0.5) for e, pi in m1.items())
    for got, exp in ((same, exp_same), (across, exp_across)):
        se = np.std(got, ddof=1) / np.sqrt(n_keys) if np.std(got) > 0 else 0.0
        assert abs(np.mean(got) - exp) <= 4 * se + 1e-9, (np.mean(got), exp, se)
    # spread starts reach the smallest possible overlap, sum max(0, pi1+pi2-1);
    # the same start the largest; independent samples sit in between
    assert exp_across == pytest.approx(
        sum(max(0.0, pi + p1[e] - 1.0) for e, pi in m1.items())
    )
    assert exp_across < sum(pi * p1[e] for e, pi in m1.items())
    assert exp_same > sum(pi * m1[e] for e, pi in f1.items() if e in m1)


def test_coordination_cuts_visits_against_uncoordinated_draw(  # joint groups
    district: tuple[Dataset, pd.DataFrame],
) -> None:
    """Merging (same start within a joint group) measurably cuts visits."""
    ds, tiers = district
    n_keys = 300
    out = {}
    for mode in ("mix", "independent"):
        design = prepare(
            ds,
            tiers,
            SamplingPolicy(caps=NO_CAPS, coordination=mode, merge="joint_group"),
            YEAR,
        )
        visits = np.array(
            [len(draw_once(design, f"v#{k}").visits.ent) for k in range(n_keys)]
        )
        checks = np.array(
            [len(draw_once(design, f"c#{k}").checks.ent) for k in range(n_keys)]
        )
        out[mode] = (visits, checks)
    v_mix, c_mix = out["mix"]
    v_ind, c_ind = out["independent"]
    # expected visits: per entity and group, P(any item of the group draws it):
    # nested samples under a shared start (max pi), independent otherwise
    design = prepare(
        ds,
        tiers,
        SamplingPolicy(caps=NO_CAPS, coordination="mix", merge="joint_group"),
        YEAR,
    )
    pools, ctx = design.pools, design.ctx
    pi = np.zeros((len(pools.uscc), len(ctx.items)))
    for i, (pool, p) in enumerate(zip(pools.pools, design.alloc.pool_pi, strict=True)):
        pi[pool, i] = p
    groups = [np.flatnonzero(ctx.item_group == g) for g in range(len(ctx.groups))]
    exp_mix = sum(pi[:, g].max(axis=1).sum() for g in groups)
    exp_ind = sum((1 - np.prod(1 - pi[:, g], axis=1)).sum() for g in groups)
    for got, exp in ((v_mix, exp_mix), (v_ind, exp_ind)):
        assert abs(got.mean() - exp) < 4 * got.std(ddof=1) / np.sqrt(n_keys)
    se = np.sqrt(v_mix.var(ddof=1) / n_keys + v_ind.var(ddof=1) / n_keys)
    assert v_mix.mean() < v_ind.mean() - 6 * se
    # the same checks are drawn in expectation (only their grouping differs)
    se_c = np.sqrt(c_mix.var(ddof=1) / n_keys + c_ind.var(ddof=1) / n_keys)
    assert abs(c_mix.mean() - c_ind.mean()) < 4 * se_c


# ------------------------------------------- entity level: the tier ratio (#12)
def entity_level(
    ds: Dataset, tiers: pd.DataFrame, policy: SamplingPolicy, seed: str
) -> pd.DataFrame:
    """Per eligible entity: visits over R keys and the planned probability R_k."""
    inc = estimate_inclusion(
        ds, tiers, policy, year=YEAR, n_keys=R, seed=seed, by="entity"
    )
    out = inc[inc["item_id"] == "(any)"].reset_index(drop=True)
    out["x"] = np.rint(out["pi_final"] * R).astype(int)
    return out


def tier_verdicts(ent: pd.DataFrame, ratio: dict[str, float]) -> dict[str, float]:
    """Per tier, z of the visited share against the tier ratio (binomial SE)."""
    z = {}
    for t, g in ent.groupby("tier"):
        r, n = ratio[str(t)], len(g) * R
        z[str(t)] = float((g["x"].sum() / n - r) / np.sqrt(r * (1 - r) / n))
    return z


def test_entity_inclusion_follows_the_tier_ratio(
    district: tuple[Dataset, pd.DataFrame],
) -> None:
    """One PRN per entity: P(visited) = R_k = the tier ratio (A-C), per entity
    and per tier, within binomial error over 2,000 keys; and one visit each."""
    ds, tiers = district
    policy = SamplingPolicy()
    ent = entity_level(ds, tiers, policy, "entity-level")
    assert len(ent) == 240
    # A-C: every entity's largest item ratio is the tier ratio (R08 profiles)
    abc = ent[ent["tier"].isin(["A", "B", "C"])]
    assert np.allclose(abc["target_pi"], abc["tier"].map(policy.ratios))
    v = inclusion_test(ent["x"], ent["target_pi"], R)
    assert v.n_units > 150
    assert not v.rejected, v
    z = tier_verdicts(abc, policy.ratios)
    assert max(abs(x) for x in z.values()) < 4.0, z
    # D: the key item F1 lifts its scope to 100 % (R23), the rest at 0.7
    d = ent[ent["tier"] == "D"]
    assert set(d["target_pi"].round(6)) == {0.7, 1.0}
    assert (d.loc[d["target_pi"] == 1.0, "x"] == R).all()
    # one door: a drawn entity gets one visit, whatever its items
    design = prepare(ds, tiers, policy, YEAR)
    for k in range(20):
        visits = draw_once(design, f"door#{k}").visits
        assert len(np.unique(visits.ent)) == len(visits.ent)


def test_power_entity_level_rejects_biased_samplers(
    district: tuple[Dataset, pd.DataFrame],
) -> None:
    """The same tests reject the per-item draw of creditsup-prn-v1 (items on
    independent PRNs: an entity's chance exceeds its tier ratio) and ratios
    10 % too low."""
    ds, tiers = district
    policy = SamplingPolicy()
    target = entity_level(ds, tiers, policy, "power-target")["target_pi"]
    per_item = entity_level(
        ds, tiers, SamplingPolicy(coordination="independent"), "power-items"
    )
    assert inclusion_test(per_item["x"], target, R).rejected
    low = SamplingPolicy(
        ratios={t: 0.9 * r for t, r in policy.ratios.items()},
        key_ratios={t: 0.9 * r for t, r in policy.key_ratios.items() if t in "ABC"},
    )
    scaled = entity_level(ds, tiers, low, "power-low")
    abc = scaled["tier"].isin(["A", "B", "C"])
    assert inclusion_test(scaled["x"], target, R).rejected
    z = tier_verdicts(scaled[abc], policy.ratios)
    assert min(z.values()) < -4.0, z
