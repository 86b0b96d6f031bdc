"""``python -m riskgraph`` runs the CLI (same as the ``riskgraph`` script)."""

from riskgraph.cli import main

if __name__ == "__main__":
    main()
