# Shared layout, navigation, roles and words used on many pages.
layout-skip-to-content = Skip to content
layout-sign-out = Sign out
layout-main-navigation = Main
layout-menu = Menu
layout-need-help = Need help?
layout-powered-by = Powered by Portico

common-continue = Continue
common-save = Save
common-cancel = Cancel
common-filters = Filters

nav-dashboard = Dashboard
nav-tickets = Tickets
nav-service-catalog = Service Catalog
nav-invoices = Invoices
nav-documents = Documents
nav-announcements = Announcements
nav-team = Team
nav-profile = Profile
nav-giving = Giving
nav-events = Events
nav-groups = Groups
nav-directory = Directory
nav-prayer-wall = Prayer Wall
nav-companies = Companies
nav-users = Users
nav-branding = Branding
nav-catalog = Catalog
nav-knowledge-base = Knowledge base
nav-integrations = Integrations
nav-delivery = Delivery
nav-audit-log = Audit log
nav-security = Security
nav-members = Members

role-staff-admin = Staff admin
role-technician = Technician
role-company-admin = Company admin
role-user = User
role-viewer-read-only = Viewer (read-only)
role-member = Member
role-leader = Leader

coming-soon-title = Coming soon
coming-soon-body = { $feature } is not available in this portal yet. We are building it; nothing here is hidden from you.
coming-soon-contact = Until then, contact

neutral-title = Find your organisation
neutral-intro = Enter the short name your provider gave you, for example
neutral-unknown = We could not find that organisation. Check the name and try again.
neutral-organisation = Organisation

error-title-400 = Please check your input
error-title-401 = Please sign in
error-title-403 = Not allowed
error-title-404 = Not found
error-title-409 = Already exists
error-title-413 = Too large
error-title-415 = Unsupported content
error-title-422 = Cannot do that
error-title-429 = Too many attempts
error-title-500 = Something went wrong
error-back-dashboard = Back to the dashboard
error-back-sign-in = Go to sign-in
error-try-again-in = You can try again in { $seconds } seconds.
error-rate-limited-wait = { $count ->
    [one] Too many attempts. Please wait { $count } second and try again.
   *[other] Too many attempts. Please wait { $count } seconds and try again.
}
common-table = Table (scrolls sideways)
text-control-single = Remove the control characters (such as line breaks or NUL) from this field.
text-control-multi = Remove the control characters (such as NUL) from this field.
text-too-long = Use at most { $max } characters.

time-just-now = just now
time-minutes-ago = { $count ->
    [one] 1 minute ago
   *[other] { $count } minutes ago
}
time-hours-ago = { $count ->
    [one] 1 hour ago
   *[other] { $count } hours ago
}
time-days-ago = { $count ->
    [one] yesterday
   *[other] { $count } days ago
}
time-minutes-ahead = { $count ->
    [one] in 1 minute
   *[other] in { $count } minutes
}
time-hours-ahead = { $count ->
    [one] in 1 hour
   *[other] in { $count } hours
}
time-days-ahead = { $count ->
    [one] tomorrow
   *[other] in { $count } days
}
role-church-admin = Church admin
role-ministry-staff = Ministry staff
