"""Page script: runs (see dashboards/ui/runs.py)."""

from dashboards.ui.runs import render

render()
