"""Allow ``python -m kitaru.cli``."""

from kitaru.cli import main

if __name__ == "__main__":
    main()
