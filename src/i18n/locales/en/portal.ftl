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
admin-open = Open
admin-recent-activity = Recent activity
admin-whole-audit-log = Whole audit log →
audit-col-when = When
audit-col-who = Who
audit-col-what = What
audit-col-object = Object
audit-system = system
tickets-count = { $count ->
    [one] { $count } ticket
   *[other] { $count } tickets
}
admin-storage = Uploaded files use { $used } MB of this organisation's { $quota } MB.
admin-storage-unlimited = Uploaded files use { $used } MB (no limit).
dashboard-read-only = Your access is read-only: you can follow your company's tickets but not raise or answer them. Your company admin can change this.
