"""Hand-offs of a demand between levels (移送市级, 下转区县) with the outcome coming back, pauses (挂起) that stop the 1231 clock, and the close of replies left unrated (默认满意)."""
