"""PatentBridge market service: open-licence declarations (开放许可声明) and their acceptances."""
