"""Matching technology demands with candidate patents (供需对接)."""
