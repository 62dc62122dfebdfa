"""Technology demands (技术需求) posted for SMEs."""
