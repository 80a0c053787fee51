"""Pure helpers with no Django models: working days, credit codes, Chinese text, environment."""
