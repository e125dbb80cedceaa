"""Shared test configuration: a derandomized hypothesis profile for CI, and
byte-code caching for the ``python -m creditsup`` subprocesses."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

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
