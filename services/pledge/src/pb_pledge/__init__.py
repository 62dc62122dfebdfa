"""PatentBridge pledge service: Patent pledge registrations posted by banks."""
