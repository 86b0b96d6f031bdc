"""Page script: ledger (see dashboards/ui/ledger.py)."""

from dashboards.ui.ledger import render

render()
