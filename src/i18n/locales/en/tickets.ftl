# Tickets: portal and staff pages, their notices and validation messages.
ticket-status-new = New
ticket-status-open = Open
ticket-status-pending = Waiting for you
ticket-status-on-hold = On hold
ticket-status-resolved = Resolved
ticket-status-closed = Closed

ticket-priority-low = Low
ticket-priority-normal = Normal
ticket-priority-high = High
ticket-priority-urgent = Urgent

ticket-sla-ok = On time
ticket-sla-due-soon = Due soon
ticket-sla-breached = Overdue

ticket-category-general = General
ticket-category-hardware = Hardware
ticket-category-software = Software
ticket-category-network = Network
ticket-category-access = Access
ticket-category-billing = Billing

ticket-subject = Subject
ticket-description = Description
ticket-priority = Priority
ticket-category = Category
ticket-requester = Requester
ticket-assignee = Assignee
ticket-assigned-to = Assigned to
ticket-not-assigned = Not yet assigned
ticket-unassigned = Unassigned
ticket-cc = Cc
ticket-raised = Raised
ticket-first-reply-due = First reply due
ticket-answered-at = (answered { $date })
ticket-resolution-due = Resolution due
ticket-sla = SLA
ticket-updated = Updated
ticket-attachments = Attachments
ticket-conversation = Conversation
ticket-internal-note = Internal note
ticket-no-replies = No replies yet.
ticket-status-history = Status history
ticket-history-by = by { $name }
ticket-history-reason = — “{ $reason }”

ticket-back-to-list = ← Tickets
ticket-back-to-queue = ← Ticket queue
ticket-raise = Raise a ticket
ticket-raise-button = Raise ticket
ticket-queue-title = Ticket queue
ticket-new-title = New ticket
ticket-new-for-client = New ticket for a client
ticket-create-button = Create ticket
ticket-choose-client = Choose a client user…
ticket-description-hint = (what happened, since when, what you expected; Markdown works)
ticket-description-staff-hint = (Markdown works; the client sees it)
ticket-attachments-hint = (screenshots, PDFs, logs, office files or zip)
ticket-cc-legend = Keep colleagues informed
ticket-message = Message
ticket-markdown-hint = (Markdown works)
ticket-attach-again = Please attach the files again.
ticket-send = Send
ticket-add-comment = Add a comment
ticket-solved-title = Solved?
ticket-solved-button = My issue is solved
ticket-confirm-close = { $days ->
    [one] Close ticket #{ $number }? You can reopen it within { $days } day.
   *[other] Close ticket #{ $number }? You can reopen it within { $days } days.
}
ticket-problem-back = Problem back?
ticket-reopen-hint = { $days ->
    [one] You can reopen this ticket within { $days } day of it being finished.
   *[other] You can reopen this ticket within { $days } days of it being finished.
}
ticket-reopen-why = Why is it not solved?
ticket-reopen-button = Reopen ticket
ticket-work-title = Work the ticket
ticket-reply-title = Reply or add a note

ticket-live-changed = Tickets have changed.
ticket-refresh-list = Refresh the list
ticket-refresh-queue = Refresh the queue
ticket-filter-show = Show
ticket-filter-open = Open
ticket-filter-all-open = All open
ticket-filter-closed = Resolved and closed
ticket-filter-all = All
ticket-filter-only-new = Only new
ticket-filter-only-open = Only open
ticket-filter-only-on-hold = Only on hold
ticket-filter-only-resolved = Only resolved
ticket-filter-only-closed = Only closed
ticket-filter-any = Any
ticket-filter-anyone = Anyone
ticket-filter-whose = Whose
ticket-filter-company = All company tickets
ticket-filter-mine = Mine and cc'd
ticket-sort = Sort
ticket-sort-by = Sort by
ticket-sort-updated = Last update
ticket-sort-created = Newest
ticket-search = Search
ticket-search-placeholder = Words or #number
ticket-apply = Apply
ticket-list-empty-open = No open tickets here.
ticket-list-empty-closed = No finished tickets here.
ticket-list-empty-all = No tickets here.
ticket-list-empty-when = when something needs fixing.
ticket-search-empty = No ticket matches “{ $q }”. Try other words or
ticket-show-all = show all tickets
ticket-queue-empty = No tickets match these filters.
ticket-show-every = Show every ticket
ticket-older = Older tickets
ticket-more = More tickets

ticket-notice-created = Your ticket has been raised. We will reply here and by email.
ticket-notice-commented = Your comment has been added.
ticket-notice-closed = Thanks! The ticket is closed. You can reopen it if the problem comes back.
ticket-notice-reopened = The ticket is open again. We will look at it shortly.
ticket-notice-staff-created = The ticket has been created.
ticket-notice-replied = Your reply has been sent.
ticket-notice-noted = Your internal note has been added.

ticket-error-subject = Enter a short summary of the problem.
ticket-error-description = Describe the problem: what happened, and what you expected.
ticket-error-message = Write a message.
ticket-error-priority = Choose low, normal, high or urgent.
ticket-error-category = Choose one of the listed categories.
ticket-error-attach-again = For your safety, browsers forget chosen files: please attach them again.
ticket-error-requester = Choose the client user the ticket is for.
ticket-error-status-value = Use new, open, pending, on_hold, resolved or closed.
ticket-error-priority-value = Use low, normal, high or urgent.
ticket-error-assignee = Choose a technician of your team.
ticket-error-transition = A ticket that is “{ $from }” cannot be set to “{ $to }”. Possible: { $options }.
ticket-error-finished-comment = This ticket is finished. Reopen it to add a comment.
ticket-error-finished-files = This ticket is finished. Reopen it to add files.
ticket-error-conflict = Someone changed this ticket at the same time. Reload the page and try again.
ticket-error-reopen-reason = Tell us why the problem is not solved.
ticket-error-still-open = This ticket is still open.
ticket-error-reopen-too-late = { $days ->
    [one] This ticket was finished more than { $days } day ago and can no longer be reopened. Please raise a new ticket.
   *[other] This ticket was finished more than { $days } days ago and can no longer be reopened. Please raise a new ticket.
}
ticket-status-pending-staff = Waiting on client
ticket-filter-only-pending-staff = Only waiting on client

## Staff workflow: reply or note
ticket-compose-mode = How to send
ticket-compose-reply = Reply to client
ticket-compose-note = Internal note
ticket-compose-note-banner = Only staff will see this. The client is not notified.
ticket-compose-reply-banner = The client and everyone copied will see this reply and get it by email.
ticket-compose-send-reply = Send reply
ticket-compose-send-note = Add internal note
ticket-error-compose-kind = Choose “Reply to client” or “Internal note”.
ticket-shortcut-reply-hint = Keyboard: press r to write in this box.

## Staff workflow: emails to staff and replies by email
ticket-email-new-subject = [#{ $number }] New ticket: { $subject }
ticket-email-new-intro = { $requester } ({ $company }) raised ticket #{ $number }: { $subject }
ticket-email-priority-line = Priority: { $priority }
ticket-email-client-reply-subject = [#{ $number }] Client replied: { $subject }
ticket-email-client-reply-intro = { $author } replied to ticket #{ $number }: { $subject }
ticket-email-reopened-subject = [#{ $number }] Reopened: { $subject }
ticket-email-reopened-intro = { $author } reopened ticket #{ $number }: { $subject }
ticket-email-confirm-subject = [#{ $number }] We opened a ticket for you: { $subject }
ticket-email-confirm-intro = { $author } opened ticket #{ $number } for you: { $subject }
ticket-email-confirm-body = We will reply by email and in the portal, where you can follow it.
ticket-email-sla-subject = [#{ $number }] Due soon: { $subject }
ticket-email-sla-first-response = The first response to ticket #{ $number } “{ $subject }” is due at { $due }.
ticket-email-sla-resolution = Ticket #{ $number } “{ $subject }” must be resolved by { $due }.
ticket-email-reply-by-email = To answer, reply to this email or write to { $address }.
ticket-error-email-duplicate = This email was already added to the ticket.
ticket-inbound-disabled = Replies by email are not set up (PORTICO_INBOUND_SECRET and PORTICO_INBOUND_DOMAIN).
ticket-inbound-bad-secret = The inbound secret is missing or wrong.
ticket-inbound-too-large = The message is too large to take in as a reply.
ticket-inbound-not-a-message = The body is not an email message (RFC 822).
ticket-inbound-no-address = The message is not addressed to a ticket's reply address.
ticket-inbound-bad-token = The reply address is not valid for any ticket.
ticket-inbound-unknown-sender = The sender is not the requester, a copied user or staff of this ticket.
ticket-inbound-empty = The reply has no text above the quoted message.

## Staff workflow: saved views, bulk actions, shortcuts
ticket-views-title = Saved views
ticket-view-name = Save these filters as
ticket-view-save = Save view
ticket-view-saved = The view has been saved.
ticket-view-deleted = The view has been deleted.
ticket-view-delete-confirm = Delete the view “{ $name }”?
ticket-view-delete-label = Delete the view “{ $name }”
ticket-view-error-name = Give the view a name (at most 60 characters).
ticket-view-error-too-many = You have 30 views already. Delete one first.
ticket-bulk-label = Change the selected tickets
ticket-bulk-select = Select
ticket-bulk-select-all = Select every ticket on this page
ticket-bulk-select-one = Select ticket #{ $number }
ticket-bulk-assign-to = Assign selected to
ticket-bulk-assign = Assign
ticket-bulk-status-to = Set selected to
ticket-bulk-set-status = Set status
ticket-bulk-result-title = Result of the change
ticket-bulk-changed = changed.
ticket-bulk-not-found = no such ticket.
ticket-bulk-applied = The change was applied; see the result for each ticket below.
ticket-bulk-none-changed = No ticket was changed; see the reason for each below.
ticket-bulk-error-action = Choose “Assign” or “Set status”.
ticket-bulk-error-none = Select at least one ticket.
ticket-bulk-error-too-many = Select at most 200 tickets at once.
ticket-shortcuts-title = Keyboard shortcuts
ticket-shortcuts-move = move between tickets
ticket-shortcuts-open = opens the ticket
ticket-shortcuts-reply = on a ticket writes a reply
