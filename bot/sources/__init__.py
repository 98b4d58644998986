"""Where briefing files come from: folders, git repositories, HTTP URLs, polled on an interval."""
