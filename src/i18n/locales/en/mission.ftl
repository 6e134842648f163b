# The Mission portal: giving, directory, prayer wall, and their staff pages.
nav-prayer-requests = Prayer requests
nav-mission-settings = Mission settings
mission-admin = Mission administration
mission-source-builtin = Mission data is kept in this portal (built-in source).
mission-source-unavailable = Mission information is not available right now. Please try again later.
mission-fix-errors = Please correct the fields below.
mission-save = Save
mission-apply = Apply
mission-search = Search
mission-choose = Choose…
mission-ok = OK

# Giving
mission-give-now = Give now
mission-totals-by-year = Your giving by year
mission-totals-by-fund = By fund in { $year }
mission-gift-count = { $count ->
    [one] one gift
   *[other] { $count } gifts
}
mission-giving-empty = No gifts recorded yet.
mission-giving-none-match = No gifts match these filters.
mission-statement-heading = Year-end statement
mission-statement-help = Download your giving statement for { $year } (choose another year with the filter below).
mission-statement-pdf = Statement (PDF)
mission-statement-csv = Gifts (CSV)
mission-statement-title = Giving statement { $year }
mission-statement-tax-id = Tax ID: { $id }
mission-statement-none = No gifts were recorded in this year.
mission-statement-total = Total
mission-statement-default-wording = Thank you for your generosity.
mission-year = Year
mission-all-years = All years
mission-fund = Fund
mission-all-funds = All funds
mission-date = Date
mission-method = Method
mission-amount = Amount
mission-recurring = Recurring
mission-method-cash = Cash
mission-method-check = Check
mission-method-card = Card
mission-method-bank = Bank transfer
mission-method-online = Online
mission-method-other = Other
mission-ytd = Given in { $year }
mission-latest-gift = Latest gift: { $amount } to { $fund } on { $date }.

# Giving, staff
mission-admin-giving = Giving
mission-record-gift = Record a gift
mission-member = Member
mission-funds = Funds
mission-funds-empty = No funds yet. Add the first one below.
mission-fund-name = Fund name
mission-add-fund = Add fund
mission-import = Import gifts from CSV
mission-import-help = Paste CSV with a header row: email,date,fund,amount,method,recurring (method and recurring are optional; dates as YYYY-MM-DD). Preview first; nothing is imported while any row has a problem.
mission-import-csv = CSV
mission-import-preview = Preview
mission-import-go = Import
mission-import-has-errors = Some rows have problems, so nothing was imported. Correct them and try again.
mission-import-ready = { $count ->
    [one] One gift is ready to import.
   *[other] { $count } gifts are ready to import.
}
mission-import-columns = The header row needs the columns email, date, fund and amount.
mission-import-empty = The file has no gifts.
mission-import-unreadable = The file could not be read as CSV.
mission-import-too-long = The file has too many rows (at most 5,000).
mission-line = Line
mission-problems = Problems
mission-recent-gifts = Recent gifts
mission-admin-gifts-empty = No gifts recorded yet.
mission-notice-gift-recorded = The gift was recorded.
mission-notice-fund-created = The fund was added.
mission-notice-imported = The gifts were imported.
mission-error-amount-missing = Enter the amount.
mission-error-amount-invalid = Enter the amount as a number, such as 25.00.
mission-error-amount-decimals = Use at most two decimal places.
mission-error-amount-positive = The amount must be more than zero.
mission-error-amount-large = The amount is too large.
mission-error-member = Choose a member of this church (unknown email).
mission-error-date = Enter the date as YYYY-MM-DD.
mission-error-fund = Choose an open fund.
mission-error-method = Choose cash, check, card, bank, online or other.
mission-error-fund-name = Enter the fund's name.
mission-error-fund-exists = A fund with that name already exists.

# Settings
mission-currency = Currency (ISO code)
mission-org-address = Organisation address (printed on statements)
mission-tax-id = Tax ID
mission-statement-wording = Statement wording
mission-giving-url = External giving page
mission-giving-url-help = When set, members see a "Give now" button leading there (https only).
mission-prayer-approval = New prayer requests wait for staff approval
mission-notice-settings-saved = Mission settings saved.
mission-error-currency = Enter a three-letter currency code, such as USD.
mission-error-giving-url = Enter an address starting with https://.

# Directory
mission-directory-my-choices = What others see
mission-directory-search = Search by name
mission-directory-empty = Nobody is listed in the directory yet.
mission-directory-no-match = Nobody listed matches "{ $q }".
mission-directory-default = By default other members see your name only. Choose what else to share, or leave the directory.
mission-directory-show = Also show
mission-show-listed = List me in the member directory
mission-household = Household
mission-phone = Phone
mission-address = Address
mission-address-help = Also printed on your giving statements.
mission-birthday = Birthday
mission-birthday-day-month = Birthday (day and month only)
mission-birthday-help = Month and day as MM-DD, such as 04-12. The year is never shown.
mission-notice-choices-saved = Your directory choices were saved.
mission-error-birthday = Enter the birthday as MM-DD, such as 04-12.

# Prayer wall
mission-prayer-new = Share a prayer request
mission-prayer-body = Your request
mission-prayer-who = Who can see it
mission-prayer-shared = Members of the church
mission-prayer-private = Pastoral staff only
mission-prayer-anonymous = Hide my name from other members
mission-prayer-post = Post request
mission-prayer-empty = No prayer requests yet.
mission-prayer-someone = Someone in our church
mission-prayer-private-badge = Private
mission-prayer-anonymous-badge = Anonymous to members
mission-prayer-pending-badge = Awaiting approval
mission-prayer-hidden-badge = Hidden by staff
mission-prayer-answered = Answered!
mission-prayed-count = { $count ->
    [0] Nobody has prayed yet
    [one] One person prayed
   *[other] { $count } people prayed
}
mission-i-prayed = I prayed
mission-you-prayed = You prayed
mission-mark-answered = Mark answered
mission-praise = Praise report (optional)
mission-report = Report
mission-confirm-report = Report this request to the pastoral staff?
mission-newest-prayers = Newest prayer requests
mission-notice-prayer-posted = Your request was posted.
mission-notice-prayer-pending = Your request was sent and will appear once staff approve it.
mission-notice-prayed = Thank you for praying.
mission-notice-answered = Praise God! Your request is marked answered.
mission-notice-reported = Thank you. The pastoral staff will review it.
mission-error-prayer-body = Write your request.
mission-error-too-long = Please keep it under 2,000 characters.
mission-error-visibility = Choose who can see it.
mission-error-not-published = This request is not on the wall yet.
mission-error-not-yours = Only the person who asked can mark it answered.
mission-error-moderation = Choose approve, hide or delete.

# Prayer, staff
mission-queue = Moderation queue
mission-queue-pending = Awaiting approval
mission-queue-reported = Reported
mission-queue-private = Private
mission-queue-all = All
mission-queue-empty = Nothing here.
mission-status-pending = Awaiting approval
mission-status-published = On the wall
mission-status-hidden = Hidden
mission-reports = { $count ->
    [one] one report
   *[other] { $count } reports
}
mission-action-approve = Approve
mission-action-hide = Hide
mission-action-delete = Delete
mission-confirm-delete = Delete this prayer request for good?
mission-notice-moderated = Done.

# Activity log sentences
audit-say-mission-settings-changed = { $actor } changed the Mission settings.
audit-say-mission-gift-recorded = { $actor } recorded a gift.
audit-say-mission-fund-created = { $actor } added the fund { $object }.
audit-say-mission-directory-changed = { $actor } changed what the directory shows about them.
audit-say-mission-prayer-posted = { $actor } posted a prayer request.
audit-say-mission-prayer-answered = { $actor } marked a prayer request answered.
audit-say-mission-prayer-reported = { $actor } reported a prayer request.
audit-say-mission-prayer-approved = { $actor } approved a prayer request.
audit-say-mission-prayer-hidden = { $actor } hid a prayer request.
audit-say-mission-prayer-deleted = { $actor } deleted a prayer request.

# Households
nav-households = Households
households-empty = No households yet. Create one below and add its members.
households-col-household = Household
households-col-members = Members
households-col-member = Member
households-col-sharing = Giving statement
households-col-actions = Actions
households-next = Next page
households-new = New household
households-name = Household name
households-create = Create household
households-back = ← All households
households-no-members = Nobody is in this household yet.
households-everyone-housed = Every member is already in a household.
households-add = Add a member
households-add-button = Add to household
households-remove = Remove { $name }
households-remove-confirm = Take { $name } out of this household? They stay a member.
households-rename = Rename or delete
households-delete = Delete household
households-delete-confirm = Delete this household? Its members stay members, in no household.
households-sharing = shares gifts on the household statement
households-not-sharing = not shared
households-mine = My household
households-none-mine = You are not in a household. Church staff can add you to one.
households-share-label = List my gifts on my household's giving statement
households-statement-pdf = Household statement (PDF)
households-giver = Given by
households-notice-created = The household was created.
households-notice-saved = The household was renamed.
households-notice-deleted = The household was deleted; its members stay.
households-notice-added = The member was added to the household.
households-notice-removed = The member was taken out of the household.
households-notice-sharing = Your choice was saved.
households-error-name = Enter a name for the household.
households-error-member = Choose a member of this church.
households-error-elsewhere = This member is already in another household. Remove them there first.

# Year-end statements
nav-giving-statements = Giving statements
statements-intro = Prepare every giver's year-end giving statement at once: email each giver their own statement, or download them all as one archive.
statements-start = Prepare statements
statements-delivery = How to deliver them
statements-delivery-email = Email each giver their statement
statements-delivery-archive = One archive (zip) to download
statements-start-button = Start
statements-runs = Runs
statements-runs-empty = No statements have been prepared yet.
statements-status-queued = Waiting
statements-status-running = Preparing
statements-status-sending = Sending
statements-status-done = Done
statements-status-failed = Failed
statements-progress = { $done } of { $total }
statements-progress-label = Progress of the statements for
statements-download = Download archive
statements-notice-started = The statements are being prepared. Progress shows below.
statements-error-year = Enter a year such as 2025.
statements-error-delivery = Choose how to deliver the statements.
statements-email-subject = Your giving statement for { $year }
statements-email-greeting = Dear { $name },
statements-email-body = Thank you for your generosity. Your giving statement for { $year } is attached.
statements-email-open = See your giving
# Give now and recurring gifts
mission-give-amount = Amount ({ $currency })
mission-give-limits = From { $min } to { $max }.
mission-give-submit = Continue to payment
mission-give-help = You pay on our payment provider's secure page. Your gift shows here once the payment is confirmed.
mission-give-link-help = Our organisation receives gifts on its own giving page.
mission-give-online = Give online
mission-give-unavailable = Giving online is not available. Please ask the church office how to give.
mission-error-give-min = The smallest gift online is 1.00.
mission-error-give-max = The largest gift online is 100,000.00.
mission-error-give-currency = Gifts are made in the organisation's currency.
mission-error-give-unavailable = Giving online is not available for this organisation.
mission-error-provider = The payment provider could not be reached. Please try again in a moment.
mission-error-frequency = Choose weekly or monthly.
mission-error-start-on = Choose a start date from today to a year ahead.
mission-error-card-needed = Save a card first: recurring gifts are charged to it.
mission-error-recurring-status = The status must be paused or active.
mission-error-recurring-remote = Recurring gifts are managed in your organisation's own system.
mission-error-provider-url = Enter an https address for the payment provider, or leave it empty.
mission-notice-given = Thank you! Your gift of { $amount } to { $fund } is recorded.
mission-notice-give-processing = Thank you! Your payment is being confirmed; the gift shows here in a moment.
mission-notice-give-cancelled = The payment was cancelled. Nothing was charged.
mission-notice-card-saved = Your card is saved. It shows here once the payment provider confirms it.
mission-notice-recurring-created = Your recurring gift is set up.
mission-notice-recurring-changed = Your recurring gift is changed.
mission-notice-recurring-paused = Your recurring gift is paused. Nothing is charged until you resume it.
mission-notice-recurring-resumed = Your recurring gift is resumed.
mission-notice-recurring-cancelled = Your recurring gift is cancelled.
mission-recurring-heading = Recurring gifts
mission-recurring-none = You have no recurring gifts.
mission-recurring-none-staff = No recurring gifts.
mission-recurring-next = Next gift: { $date }
mission-recurring-failed = The last charge failed:
mission-recurring-failed-short = Last charge failed:
mission-recurring-change = Change
mission-recurring-pause = Pause
mission-recurring-resume = Resume
mission-recurring-cancel = Cancel
mission-recurring-new = Set up a recurring gift
mission-recurring-card = Recurring gifts are charged to { $card }.
mission-recurring-no-card = Save a card to set up a recurring gift.
mission-recurring-save-card = Save a card
mission-recurring-replace-card = Use another card
mission-recurring-start = First gift on
mission-recurring-submit = Set up recurring gift
mission-recurring-no-provider = New recurring gifts can be set up once the organisation accepts payments online.
mission-recurring-change-heading = Change recurring gift
mission-recurring-cancel-heading = Cancel recurring gift
mission-recurring-cancel-help = Nothing more will be charged. Gifts already given stay on your record.
mission-recurring-cancel-confirm = Cancel this recurring gift
mission-recurring-keep = Keep it
mission-recurring-status-active = Active
mission-recurring-status-paused = Paused
mission-recurring-status-cancelled = Cancelled
mission-back-to-giving = Back to giving
mission-frequency = Frequency
mission-frequency-weekly = Weekly
mission-frequency-monthly = Monthly
mission-next-gift = Next gift
mission-status = Status
mission-provider-heading = Online payments
mission-provider-help = The payment provider members give through (the same one invoices use). Without one, members see the external giving link, if any.
mission-provider-webhook = Point the provider's webhook at { $url }
mission-provider-url = Provider API address
mission-provider-url-help = Leave empty for the standard provider.
mission-provider-key = Secret API key
mission-provider-webhook-secret = Webhook signing secret
mission-provider-key-set = Stored. Leave empty to keep it.
mission-provider-key-unset = Not set.
audit-say-mission-give-started = { $actor } started a gift online.
audit-say-mission-gift-given-online = { $actor } gave online.
audit-say-mission-card-setup-started = { $actor } started saving a card for recurring gifts.
audit-say-mission-recurring-created = { $actor } set up a recurring gift to { $object }.
audit-say-mission-recurring-changed = { $actor } changed a recurring gift to { $object }.
audit-say-mission-recurring-paused = { $actor } paused a recurring gift to { $object }.
audit-say-mission-recurring-resumed = { $actor } resumed a recurring gift to { $object }.
audit-say-mission-recurring-cancelled = { $actor } cancelled a recurring gift to { $object }.
audit-say-mission-recurring-charged = { $actor } charged a recurring gift to { $object }.
audit-say-mission-recurring-failed = { $actor } could not charge a recurring gift to { $object }.
audit-say-mission-payment-settings-changed = { $actor } changed the online payment settings.
mission-checkout-redirect = Taking you to the secure payment page…
mission-checkout-continue = Continue to the payment page
