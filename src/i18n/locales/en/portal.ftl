dashboard-hello = Hello, { $name }
blurb-portal-tickets = Raise a request and follow it to the end.
blurb-portal-catalog = Order services with agreed response times.
blurb-portal-invoices = See and pay your invoices.
blurb-portal-documents = Sign policies and find shared files.
blurb-portal-announcements = News and maintenance notices.
blurb-portal-team = Invite colleagues and manage roles.
blurb-portal-mission-giving = Your giving history and statements.
blurb-portal-mission-events = Upcoming events and registration.
blurb-portal-mission-groups = Small groups you can join.
blurb-portal-mission-directory = Find other members.
blurb-portal-mission-prayer = Share and pray for requests.
admin-title = Admin
admin-heading = { $portal } admin
admin-signed-in-as = Signed in as { $role }.
admin-recent-activity = Recent activity
admin-whole-audit-log = Whole audit log →
audit-col-when = When
audit-col-who = Who
audit-col-what = What
audit-col-object = Object
audit-system = System
tickets-count = { $count ->
    [one] { $count } ticket
   *[other] { $count } tickets
}
admin-storage = Uploaded files use { $used } MB of this organisation's { $quota } MB.
admin-storage-unlimited = Uploaded files use { $used } MB (no limit).
dashboard-read-only = Your access is read-only: you can follow your company's tickets but not raise or answer them. Your company admin can change this.
dashboard-tickets = Your tickets
dashboard-stat-open = { $count ->
    [one] open ticket
   *[other] open tickets
}
dashboard-stat-waiting = { $count ->
    [one] waits for your reply
   *[other] wait for your reply
}
dashboard-stat-company = { $count ->
    [one] open ticket at { $company }
   *[other] open tickets at { $company }
}
dashboard-raise = Raise a ticket
dashboard-replies = Latest replies from support
dashboard-replies-empty = No replies yet. When support answers one of your tickets, it shows here.
dashboard-more = Also in your portal
admin-email-failures = { $count ->
    [one] 1 email could not be delivered. See the delivery log.
   *[other] { $count } emails could not be delivered. See the delivery log.
}
admin-needs-attention = Needs attention
admin-stat-mine = assigned to me
admin-stat-unassigned = unassigned
admin-stat-breached = past their SLA
admin-stat-due-soon = due within 2 hours
admin-queue-by-status = Open tickets by status
admin-my-tickets = My tickets
admin-my-tickets-empty = Nothing is assigned to you right now.
admin-my-tickets-all = All my tickets →
admin-client-replies = Latest client replies
admin-client-replies-empty = No client has replied yet.
