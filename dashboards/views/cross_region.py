"""Page script: cross_region (see dashboards/ui/cross_region.py)."""

from dashboards.ui.cross_region import render

render()
