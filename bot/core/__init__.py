"""Pure rules: no SDK, no database, no clock."""
