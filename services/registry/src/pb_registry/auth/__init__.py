"""API clients, their hashed secrets, and the signed tokens they obtain (OAuth2 client credentials)."""
