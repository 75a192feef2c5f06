"""Alert sources other than Alertmanager and Grafana: each vendor's payload turned into the
core's `AlertGroup`, so the same flows open, join and resolve incidents for all of them."""
