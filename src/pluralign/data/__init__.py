"""Data in and out: importers/exporters (Polis, PRISM), preference pairs and their weights."""
