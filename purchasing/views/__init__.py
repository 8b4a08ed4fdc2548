"""The purchasing app's pages, one module per area; ``purchasing/urls.py`` routes to these."""
