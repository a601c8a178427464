"""pluralign: democratic fine-tuning of language models.

A community decides how a model should behave; pluralign turns that decision into training data,
a fine-tuned model, and evidence that the model now follows it. Each stage is a sub-package with a
small public API; ``import pluralign`` stays light (heavy libraries load inside the functions).
"""

__version__ = "0.1.0"
