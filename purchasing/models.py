"""Models of this app arrive with its own issue; the app is registered so the layout is whole."""
