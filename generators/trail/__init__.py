"""The trail writer: log files, digest chain, keyring."""
