"""The accounting system's data: the exchange format, `flask billing import` and the export of
readings submitted in the portal."""
