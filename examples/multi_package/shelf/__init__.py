"""Shelf: iterator tools (a sample package)."""

from .io import load
from .more import *
from .more import chunked as batched
from .recipes import *

__all__ = ["batched", "load", *more.__all__, *recipes.__all__]
