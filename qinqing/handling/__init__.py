"""People on a demand: the named handler a unit head assigns, watchers (关注), internal notes with @mentions, canned replies (常用语) and bulk actions on the ledger and inboxes."""
