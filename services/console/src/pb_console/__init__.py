"""PatentBridge admin console: serves the office's single-page app and is its backend-for-frontend."""
