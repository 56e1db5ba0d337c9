"""Automatic anonymization: find the least damaging generalization that meets privacy targets."""
