"""Cashing policies: applications (申报) and their review, 免申即享 batches under the two-person rule, the fulfilment ledger (兑现台账) and the seed-002 sentence."""
