# Where a Mission tenant's data comes from: the built-in store or the tenant's Mission API.
mission-source = Where member data comes from
mission-source-remote = Our own Mission system, through its API (see the Mission API contract in the documentation)
mission-remote-url = Mission API address
mission-remote-url-help = Needed for the API source. Must start with https://.
mission-remote-key = Mission API key
mission-remote-key-help = Stored sealed and never shown. Leave empty to keep the stored key.
mission-error-remote-url = Enter the API address, starting with https://.
mission-error-remote-key = Enter the API key the Mission system gave you.
