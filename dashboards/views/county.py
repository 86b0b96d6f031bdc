"""Page script: county (see dashboards/ui/county.py)."""

from dashboards.ui.county import render

render()
