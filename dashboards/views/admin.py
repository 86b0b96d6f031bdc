"""Page script: admin (see dashboards/ui/admin.py)."""

from dashboards.ui.admin import render

render()
