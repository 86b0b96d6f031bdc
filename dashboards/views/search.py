"""Page script: search (see dashboards/ui/search.py)."""

from dashboards.ui.search import render

render()
