"""When and how an archived issue is pushed: the due rule, publications, the scheduler."""
