# Service catalog: portal and staff pages, SLA wording, form designer and validation messages.
catalog-intro = Request a service from your provider. Each service says how quickly it is answered and resolved.
catalog-search = Search the catalog
catalog-search-button = Search
catalog-categories = Categories
catalog-all-categories = All services
catalog-empty = No services are offered here yet.
catalog-no-match = No service matches “{ $q }”.
catalog-show-all = Show every service
catalog-more = More services
catalog-back = ← All services
catalog-sla-title = Service level
catalog-price = Price
catalog-price-hint = Optional, as clients should read it (“€49 per user per month”).
catalog-request-title = Request this service
catalog-no-questions = No questions: just send the request.
catalog-choose = Choose…
catalog-submit = Send request
catalog-read-only = Your role can browse the catalog but not request services. Ask a colleague with a user role.
catalog-ticket-description = Requested through the service catalog: **{ $item }**. The answers are below.
catalog-answers-title = Request details: { $item }
catalog-question = Question
catalog-answer = Answer
catalog-not-answered = Not answered
catalog-yes = Yes
catalog-no = No
catalog-form-version-note = Answered on version { $count } of the request form.

catalog-sla-first = First response within { $duration }
catalog-sla-resolution = Resolved within { $duration }
catalog-sla-first-always = First response within { $duration }, around the clock
catalog-sla-resolution-always = Resolved within { $duration }, around the clock
catalog-dur-business-minutes = { $count ->
    [one] 1 business minute
   *[other] { $count } business minutes
}
catalog-dur-business-hours = { $count ->
    [one] 1 business hour
   *[other] { $count } business hours
}
catalog-dur-business-days = { $count ->
    [one] 1 business day
   *[other] { $count } business days
}
catalog-dur-minutes = { $count ->
    [one] 1 minute
   *[other] { $count } minutes
}
catalog-dur-hours = { $count ->
    [one] 1 hour
   *[other] { $count } hours
}
catalog-dur-days = { $count ->
    [one] 1 day
   *[other] { $count } days
}

catalog-error-required = Please answer this question.
catalog-error-tick = Please tick this box to continue.
catalog-error-too-long = That is too long.
catalog-error-number = Enter a number, such as 3 or 2.5.
catalog-error-date = Enter a date as YYYY-MM-DD.
catalog-error-email = Enter an email address, such as name@example.com.
catalog-error-choice = Choose one of the options offered.
catalog-error-name = Enter a name.
catalog-error-icon = Choose an icon from the list.
catalog-error-minutes = Enter a time between 1 minute and a year.
catalog-error-resolution = Enter a resolution time of at least the first-response time, and at most a year.
catalog-error-hours = Choose business hours or around the clock.
catalog-error-visibility = Choose who can see this service.
catalog-error-companies = Choose at least one company of this organisation.
catalog-error-category = Choose a category.
catalog-error-category-taken = A category with that name already exists.
catalog-error-category-in-use = Move or delete the services in this category first.
catalog-error-item-in-use = This service has been requested already, so it cannot be deleted. Make it inactive instead.
catalog-error-too-many-fields = A form can have at most 40 questions.
catalog-error-field-key = This question's identifier is invalid or used twice.
catalog-error-field-label = Enter the question (up to 200 characters).
catalog-error-field-help = The help line can have up to 200 characters.
catalog-error-field-choices = Enter the choices, one per line (each up to 200 characters).

catalog-new-item = New service
catalog-back-admin = ← Catalog
catalog-items = Services
catalog-admin-empty = No services yet. Add a category, then a service.
catalog-no-categories = No categories yet. Add the first one below.
catalog-new-category = New category
catalog-add-category = Add category
catalog-category = Category
catalog-category-name-for = Name of { $name }
catalog-category-position-for = Position of { $name }
catalog-delete-category = Delete { $name }
catalog-confirm-delete-category = Delete the category { $name }?
catalog-item-count = { $count ->
    [one] 1 service
   *[other] { $count } services
}
catalog-visibility = Who can see it
catalog-visibility-all = All companies
catalog-visibility-companies = Only the companies chosen below
catalog-companies = Companies
catalog-active = Active
catalog-inactive = Inactive
catalog-active-label = Offered to clients (active)
catalog-form-version = Form version
catalog-form-version-current = The request form is at version { $count }. Saving a changed form creates a new version; requests already sent keep theirs.
catalog-item-details = Service
catalog-icon = Icon
catalog-description = Description
catalog-who = Availability
catalog-sla-first-label = First response within
catalog-sla-resolution-label = Resolved within
catalog-amount = Amount
catalog-unit = Unit
catalog-unit-minutes = minutes
catalog-unit-hours = hours
catalog-unit-days = days
catalog-hours = Clock
catalog-hours-business = Business hours (Monday to Friday, 09:00–17:00)
catalog-hours-always = Around the clock (24×7)
catalog-designer = Request form
catalog-designer-hint = Each question keeps its identity when you edit it, so old requests still read correctly. Leave a new question's text empty to skip it; change the positions to reorder.
catalog-question-n = Question { $count }
catalog-field-label = Question
catalog-field-kind = Kind of answer
catalog-field-help = Help line
catalog-field-choices = Choices
catalog-field-choices-hint = One per line (for the choice kinds)
catalog-field-position = Position
catalog-field-required = Required
catalog-field-remove = Remove this question
catalog-add-question = Add a question
catalog-delete-title = Delete this service
catalog-delete-hint = Only a service nobody has requested can be deleted; otherwise make it inactive.
catalog-delete-item = Delete service
catalog-confirm-delete-item = Delete the service { $name }? This cannot be undone.
catalog-notice-saved = Saved.
catalog-notice-deleted = Deleted.
catalog-kind-short-text = Short text
catalog-kind-long-text = Long text
catalog-kind-number = Number
catalog-kind-date = Date
catalog-kind-single-choice = Single choice
catalog-kind-multiple-choice = Multiple choice
catalog-kind-checkbox = Checkbox
catalog-kind-email = Email address
catalog-icon-key = Key
catalog-icon-laptop = Laptop
catalog-icon-monitor = Monitor
catalog-icon-phone = Phone
catalog-icon-printer = Printer
catalog-icon-app = Application
catalog-icon-mail = Mail
catalog-icon-network = Network
catalog-icon-shield = Shield
catalog-icon-cloud = Cloud
catalog-icon-person = Person
catalog-icon-box = Box

audit-say-catalog-item-created = { $actor } added the catalog service { $object }
audit-say-catalog-item-updated = { $actor } changed the catalog service { $object }
audit-say-catalog-item-deleted = { $actor } deleted the catalog service { $object }
audit-say-catalog-category-created = { $actor } added the catalog category { $object }
audit-say-catalog-category-updated = { $actor } changed the catalog category { $object }
audit-say-catalog-category-deleted = { $actor } deleted the catalog category { $object }
audit-say-catalog-requested = A catalog request became ticket { $object }
