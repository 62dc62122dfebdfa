"""Organizations (who is who): registration, changes, annual reports, SME size."""
