"""The shared vocabulary: records, categories and tiers, programs, rules.

Imports nothing else of the project; every other layer may import it.
"""
