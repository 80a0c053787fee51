"""Hot issues: clusters of similar demands across enterprises within a period and jurisdiction, ranked by a documented heat score, turned into policy-study tasks."""
