mfa-title = Inicio de sesión en dos pasos
mfa-enter-code = Escriba su código
mfa-code = Código
mfa-start-again = Empezar de nuevo
mfa-challenge-hint = Abra su aplicación de autenticación y escriba el código de 6 dígitos de { $portal }. ¿Perdió el dispositivo? Escriba uno de sus códigos de recuperación.
mfa-require-title = Exigir el inicio de sesión en dos pasos
mfa-require-hint = Quienes estén incluidos y no lo hayan configurado irán a la página de configuración en su próximo acceso y no podrán usar nada más hasta terminar.
mfa-require-staff = Para todo el personal
mfa-require-client-admins = Para los administradores de las empresas cliente
mfa-required = Su organización exige el inicio de sesión en dos pasos. Configúrelo para continuar.
mfa-your-codes = Sus códigos de recuperación
mfa-saved-them = Ya los he guardado
mfa-new-codes-title = Códigos de recuperación nuevos
mfa-new-codes-hint = Sustituye todos sus códigos de recuperación actuales.
mfa-your-password = Su contraseña
mfa-make-codes = Crear códigos de recuperación nuevos
mfa-turn-off-title = Desactivar el inicio de sesión en dos pasos
mfa-confirm-off = ¿Desactivar el inicio de sesión en dos pasos? Su cuenta quedará protegida solo por la contraseña.
mfa-turn-off = Desactivar
mfa-scan = Escanee este código QR con una aplicación como Google Authenticator, Microsoft Authenticator, 1Password o Aegis.
mfa-qr-alt = Código QR para su aplicación de autenticación
mfa-by-hand = ¿No puede escanearlo? Escriba esta clave a mano (basada en el tiempo, 6 dígitos):
mfa-step-2 = 2. Escriba el código que muestra
mfa-six-digit = Código de 6 dígitos
mfa-turn-on = Activar el inicio de sesión en dos pasos
mfa-back-to-profile = ← Volver a su perfil
mfa-codes-hint = Cada código le permite entrar una vez si pierde su autenticador. Guárdelos ahora (imprímalos o guárdelos en un gestor de contraseñas): no se vuelven a mostrar.
mfa-on-hint = Al iniciar sesión se pide un código de su aplicación de autenticación.
mfa-step-1 = 1. Añada { $portal } a su aplicación de autenticación
mfa-codes-left = { $count ->
    [one] Le queda { $count } código de recuperación sin usar.
   *[other] Le quedan { $count } códigos de recuperación sin usar.
}
