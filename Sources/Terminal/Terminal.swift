// Terminal: work in progress; see the module's issue.
