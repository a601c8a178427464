"""Importers and exporters (Polis CSV, ...) and preference data sets."""
