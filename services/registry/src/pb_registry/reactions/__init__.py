"""The registry's reactions to other services' events: recorded deals move title, pledges flag patents."""
