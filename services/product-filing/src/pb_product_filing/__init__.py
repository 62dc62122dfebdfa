"""PatentBridge product-filing service: Patent-product filings and their review."""
