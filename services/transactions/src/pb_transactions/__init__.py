"""PatentBridge transactions service: Deals: transfers, licences and equity contributions, with payments received."""
