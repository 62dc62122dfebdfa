"""Pledges: registration by the pledgee bank, release (注销), and the bank-scoped reads."""
