"""Page bodies of the app (one module per page; ``dashboards/views/*.py`` call them)."""
