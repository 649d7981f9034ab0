"""``python -m kitaru.mcp``: the same as the ``kitaru-mcp`` command."""

from kitaru.mcp.server import main

if __name__ == "__main__":
    main()
