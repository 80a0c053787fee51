"""Co-units that act (协办意见), dispatch disputes (退单争议) against the 派单目录, escalation queues of 联席办 and 区领导 with leaders' instructions (批示), and the review of 区级研究推进 demands."""
