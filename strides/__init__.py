"""strides: the reminder and workflow engine for professional-development goals."""

__version__ = "0.1.0"
