"""creditsup: credit-tiered "double random, one public" (双随机、一公开) supervision."""

from __future__ import annotations

import logging

from creditsup.exceptions import (
    ConfigError,
    CreditsupError,
    CreditsupWarning,
    DataValidationError,
    InfeasiblePlanError,
)

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "ConfigError",
    "CreditsupError",
    "CreditsupWarning",
    "DataValidationError",
    "InfeasiblePlanError",
    "__version__",
]
