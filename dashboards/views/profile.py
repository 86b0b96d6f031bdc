"""Page script: profile (see dashboards/ui/profile.py)."""

from dashboards.ui.profile import render

render()
