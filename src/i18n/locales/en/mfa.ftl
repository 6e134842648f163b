mfa-title = Two-step sign-in
mfa-enter-code = Enter your code
mfa-code = Code
mfa-start-again = Start again
mfa-challenge-hint = Open your authenticator app and enter the 6-digit code for { $portal }. Lost your device? Enter one of your recovery codes instead.
mfa-require-title = Require two-step sign-in
mfa-require-hint = People covered who have not set it up are taken to the set-up page at their next sign-in and cannot use anything else until they finish.
mfa-require-staff = For all staff
mfa-require-client-admins = For client company admins
mfa-required = Your organisation requires two-step sign-in. Set it up to continue.
mfa-your-codes = Your recovery codes
mfa-saved-them = I have saved them
mfa-new-codes-title = New recovery codes
mfa-new-codes-hint = Replaces all your current recovery codes.
mfa-your-password = Your password
mfa-make-codes = Make new recovery codes
mfa-turn-off-title = Turn off two-step sign-in
mfa-confirm-off = Turn off two-step sign-in? Your account is then protected by the password alone.
mfa-turn-off = Turn off
mfa-scan = Scan this QR code with an app such as Google Authenticator, Microsoft Authenticator, 1Password or Aegis.
mfa-qr-alt = QR code for your authenticator app
mfa-by-hand = Cannot scan? Enter this key by hand (time-based, 6 digits):
mfa-step-2 = 2. Enter the code it shows
mfa-six-digit = 6-digit code
mfa-turn-on = Turn on two-step sign-in
mfa-back-to-profile = ← Back to your profile
mfa-codes-hint = Each code signs you in once if you lose your authenticator. Save them now (print them or keep them in a password manager): they are not shown again.
mfa-on-hint = Sign-in asks for a code from your authenticator app.
mfa-step-1 = 1. Add { $portal } to your authenticator app
mfa-codes-left = { $count ->
    [one] { $count } unused recovery code left.
   *[other] { $count } unused recovery codes left.
}
