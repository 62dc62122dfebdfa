"""PatentBridge metrics service: Programmes, targets and live progress, from every event."""
