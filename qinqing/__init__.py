"""亲清 (Qinqing): the platform district governments use to close every enterprise demand."""
