"""Shared test configuration: a derandomized hypothesis profile for CI, and
byte-code caching for the ``python -m creditsup`` subprocesses."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Hundreds of tests run the real entry point in a subprocess. Where byte code
# is not written (PYTHONDONTWRITEBYTECODE, as in some sandboxes), each of them
# would compile creditsup from source again (about 0.15 s of CPU a run), and each
# xdist worker would rewrite every test module's asserts again. Cache byte code
# outside the source tree instead, as an installed package would have it.
if os.environ.get("PYTHONDONTWRITEBYTECODE") and not os.environ.get(
    "PYTHONPYCACHEPREFIX"
):
    del os.environ["PYTHONDONTWRITEBYTECODE"]
    cache = Path(tempfile.gettempdir()) / f"creditsup-tests-pycache-{os.getuid()}"
    os.environ["PYTHONPYCACHEPREFIX"] = str(cache)
    # and this process: the test modules' rewritten asserts, the modules doctested
    sys.pycache_prefix, sys.dont_write_bytecode = str(cache), False

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile("dev", deadline=None, max_examples=40)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# A relative PYTHONPATH (``PYTHONPATH=src``, as the README runs it) must still
# find the package from a subprocess started in another folder.
if os.environ.get("PYTHONPATH"):
    os.environ["PYTHONPATH"] = os.pathsep.join(
        str(Path(p).resolve()) for p in os.environ["PYTHONPATH"].split(os.pathsep) if p
    )


# ------------------------------------------------------- long modules first
# pytest-xdist (``-n 2``) hands out tests in chunks of consecutive items: when
# the heaviest module (many CLI runs) comes last in collection order, one worker
# gets it whole and the other idles. So modules run longest first, by the
# seconds each took in the last run that included it (pytest's cache); a module
# keeps its own order, so its fixtures are still built once per worker.
_SECONDS_KEY = "creditsup/module_seconds"


def _module(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    if config.getoption("failedfirst", False) or config.getoption("newfirst", False):
        return  # the order asked for
    cache = getattr(config, "cache", None)
    seconds = cache.get(_SECONDS_KEY, {}) if cache is not None else {}
    if not seconds:
        return
    first: dict[str, int] = {}
    for k, item in enumerate(items):
        first.setdefault(_module(item.nodeid), k)
    items.sort(
        key=lambda it: (
            -seconds.get(_module(it.nodeid), 0.0),
            first[_module(it.nodeid)],
        )
    )


_spent: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    module = _module(report.nodeid)
    _spent[module] = _spent.get(module, 0.0) + report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    cache = getattr(session.config, "cache", None)
    if cache is None or hasattr(session.config, "workerinput") or not _spent:
        return  # an xdist worker: the controller has every report
    seconds = {**cache.get(_SECONDS_KEY, {}), **_spent}
    cache.set(_SECONDS_KEY, {k: round(v, 2) for k, v in seconds.items()})
