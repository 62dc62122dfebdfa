"""One round trip for everything a submission names: its organizations and patents."""
