# Diseño común, navegación, funciones y palabras usadas en muchas páginas.
layout-skip-to-content = Saltar al contenido
layout-sign-out = Cerrar sesión
layout-main-navigation = Principal
layout-menu = Menú
layout-need-help = ¿Necesita ayuda?
layout-powered-by = Con la tecnología de Portico

common-continue = Continuar
common-save = Guardar
common-cancel = Cancelar
common-filters = Filtros

nav-dashboard = Panel
nav-tickets = Solicitudes
nav-service-catalog = Catálogo de servicios
nav-invoices = Facturas
nav-documents = Documentos
nav-announcements = Anuncios
nav-team = Equipo
nav-profile = Perfil
nav-giving = Donativos
nav-events = Eventos
nav-groups = Grupos
nav-directory = Directorio
nav-prayer-wall = Muro de oración
nav-companies = Empresas
nav-users = Usuarios
nav-branding = Marca
nav-catalog = Catálogo
nav-knowledge-base = Base de conocimiento
nav-integrations = Integraciones
nav-delivery = Envíos
nav-audit-log = Registro de auditoría
nav-security = Seguridad
nav-members = Miembros

role-staff-admin = Administrador del personal
role-technician = Técnico
role-company-admin = Administrador de la empresa
role-user = Usuario
role-viewer-read-only = Lector (solo lectura)
role-member = Miembro
role-leader = Líder

coming-soon-title = Próximamente
coming-soon-body = { $feature } aún no está disponible en este portal. Lo estamos construyendo; aquí no se le oculta nada.
coming-soon-contact = Mientras tanto, escriba a

neutral-title = Encuentre su organización
neutral-intro = Escriba el nombre corto que le dio su proveedor, por ejemplo
neutral-unknown = No encontramos esa organización. Revise el nombre e inténtelo de nuevo.
neutral-organisation = Organización

error-title-400 = Revise los datos
error-title-401 = Inicie sesión
error-title-403 = No permitido
error-title-404 = No encontrado
error-title-409 = Ya existe
error-title-413 = Demasiado grande
error-title-415 = Contenido no admitido
error-title-422 = No se puede hacer
error-title-429 = Demasiados intentos
error-title-500 = Algo salió mal
error-back-dashboard = Volver al panel
error-back-sign-in = Ir al inicio de sesión
error-try-again-in = Puede volver a intentarlo en { $seconds } segundos.
error-rate-limited-wait = { $count ->
    [one] Demasiados intentos. Espere { $count } segundo e inténtelo de nuevo.
   *[other] Demasiados intentos. Espere { $count } segundos e inténtelo de nuevo.
}
common-table = Tabla (se desplaza en horizontal)
text-control-single = Quite los caracteres de control (como saltos de línea o NUL) de este campo.
text-control-multi = Quite los caracteres de control (como NUL) de este campo.
text-too-long = Use como máximo { $max } caracteres.

time-just-now = ahora mismo
time-minutes-ago = { $count ->
    [one] hace 1 minuto
   *[other] hace { $count } minutos
}
time-hours-ago = { $count ->
    [one] hace 1 hora
   *[other] hace { $count } horas
}
time-days-ago = { $count ->
    [one] ayer
   *[other] hace { $count } días
}
time-minutes-ahead = { $count ->
    [one] en 1 minuto
   *[other] en { $count } minutos
}
time-hours-ahead = { $count ->
    [one] en 1 hora
   *[other] en { $count } horas
}
time-days-ahead = { $count ->
    [one] mañana
   *[other] en { $count } días
}
role-church-admin = Administrador de la iglesia
role-ministry-staff = Equipo ministerial
