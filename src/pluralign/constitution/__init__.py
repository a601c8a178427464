"""Constitution drafting."""
