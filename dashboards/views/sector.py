"""Page script: sector (see dashboards/ui/sector.py)."""

from dashboards.ui.sector import render

render()
