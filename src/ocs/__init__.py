"""OCS: an Online Charging System for telecom operators."""

__version__ = "0.1.0"
