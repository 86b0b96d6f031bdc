"""Page script: person (see dashboards/ui/person.py)."""

from dashboards.ui.person import render

render()
