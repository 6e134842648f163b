jobs-empty = Nothing has been sent yet. Invitations and password-reset emails appear here.
jobs-col-attempts = Attempts
jobs-col-last-error = Last error
jobs-col-next-run = Next run
jobs-col-queued = Queued
jobs-confirm-retry = Run this job again now?
jobs-retry = Retry now
jobs-older = Older jobs
jobs-intro = Emails and other background work of your organisation, newest first.
job-status-queued = queued
job-status-running = running
job-status-done = done
job-status-failed = failed
job-status-cancelled = cancelled
jobs-intro-retries = { $count ->
    [one] A failed attempt is retried automatically with growing pauses (30 seconds, 1 minute, 2 minutes …); after { $count } attempt the job is marked failed and waits for you.
   *[other] A failed attempt is retried automatically with growing pauses (30 seconds, 1 minute, 2 minutes …); after { $count } attempts the job is marked failed and waits for you.
}
