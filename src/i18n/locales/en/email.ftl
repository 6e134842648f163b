# Emails: subjects, paragraphs and button labels, in the recipient's language.
email-hello = Hello { $name },
email-open = Open

email-invite-subject = You are invited
email-invite-intro = { $inviter } invited you to the { $portal } portal.
email-invite-intro-company = { $inviter } invited you to the { $portal } portal for { $company }.
email-invite-body = Choose a password with the link below within 7 days.
email-invite-action = Accept the invitation

email-reset-subject = Reset your password
email-reset-body = Someone asked to reset the password of your account. If it was you, use the link below within an hour. If not, ignore this email: your password stays as it is.
email-reset-action = Choose a new password

email-ticket-reply-subject = [#{ $number }] New reply: { $subject }
email-ticket-reply-intro = { $author } replied to your ticket #{ $number }: { $subject }
email-ticket-status-subject = [#{ $number }] { $status }: { $subject }
email-ticket-status-line = Ticket #{ $number } "{ $subject }" is now: { $status }.
email-ticket-reason = Reason: { $reason }
email-ticket-action = View the ticket

email-footer-help = Questions? Write to
email-footer-reason = You are receiving this email because you have an account on { $portal }, or were invited to one.

email-membership-subject = Invitation to { $company }
email-membership-intro = { $inviter } invited you to join { $company } on the { $portal } portal.
email-membership-body = You keep your account and your sign-in. Sign in and open “Your companies” to accept; until you do, nothing changes.
email-membership-action = See the invitation
