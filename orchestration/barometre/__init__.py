"""barometre: the data warehouse of the Baromètre de la maturité numérique."""

__version__ = "0.1.0"
