"""Page script: city (see dashboards/ui/city.py)."""

from dashboards.ui.city import render

render()
