"""ecdigest: tools for the editors of 《电子商务动态》."""

__version__ = "0.1.0"
