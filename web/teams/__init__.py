"""A client's team: the team page, joining and leaving, invitations and join codes,
attentions, circles, meetings and check-ins."""
