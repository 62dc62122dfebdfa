"""PatentBridge registry service: Organizations, patents, chain of title, API clients and tokens."""
