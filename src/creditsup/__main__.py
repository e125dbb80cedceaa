"""``python -m creditsup``: the same entry point as the ``creditsup`` script."""

from creditsup.cli import main

if __name__ == "__main__":
    main()
