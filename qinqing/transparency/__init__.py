"""The public page without login: received, answered, satisfaction and on-time rates by unit, and the directory of service specialists (首席专员、具办专员)."""
