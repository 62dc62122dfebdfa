"""Open-licence declarations (开放许可声明) and their catalogue."""
