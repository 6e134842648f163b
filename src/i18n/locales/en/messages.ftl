# Messages raised as English prose in the code (errors, validation, notices). The English text
# is the message id: keep each on one line, without placeables, and identical to the code.
msg-sign-in-to-continue = Please sign in to continue.
msg-not-found = We could not find that page or record.
msg-too-large = That upload or form is too large.
msg-internal = Something went wrong on our side. Please try again.
msg-fix-fields = Please correct the highlighted fields.
msg-already-exists = That already exists.
msg-nul-character = The text contains a NUL character, which cannot be stored. Remove it and try again.
msg-bad-request = The request could not be read.
msg-forbidden = You are not allowed to do that.
msg-method-not-allowed = That action is not available here.
msg-unsupported-media = Send JSON with Content-Type: application/json, or a form.
msg-rate-limited = Too many attempts. Please wait and try again.
msg-csrf-expired = This form has expired or did not come from this site. Reload the page and try again.
msg-bad-credentials = That email and password do not match an account here.
msg-enter-email = Enter the email address you sign in with.
msg-enter-name = Enter your name (at most 120 characters).
notice-signed-out = You have signed out.
notice-password-reset = Your password has been changed. Sign in with the new one.
notice-invite-accepted = Your account is ready. Sign in with your new password.
notice-reset-sent = If an account exists for that address, we have emailed a link to reset the password. It works once, within an hour.
notice-password-changed = Your password has been changed. Your other sessions have been signed out.
notice-saved = Your changes have been saved.
notice-sessions-ended = Signed out. Those sessions have ended.
notice-mfa-enabled = Two-step sign-in is on. Keep your recovery codes somewhere safe.
notice-mfa-disabled = Two-step sign-in is off.
notice-session-ended = Your session has ended. Please sign in again.
