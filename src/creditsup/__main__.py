"""``python -m creditsup``: the same entry point as the ``creditsup`` script."""

from creditsup.cli import main

main()
