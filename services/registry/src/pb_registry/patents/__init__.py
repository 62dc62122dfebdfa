"""Patents (who owns what): registration, search, and the chain of title."""
