dashboard-hello = Hola, { $name }
blurb-portal-tickets = Abra una solicitud y sígala hasta el final.
blurb-portal-catalog = Pida servicios con tiempos de respuesta acordados.
blurb-portal-invoices = Consulte y pague sus facturas.
blurb-portal-documents = Firme políticas y encuentre archivos compartidos.
blurb-portal-announcements = Noticias y avisos de mantenimiento.
blurb-portal-team = Invite a sus compañeros y gestione sus funciones.
blurb-portal-mission-giving = Su historial de donativos y sus certificados.
blurb-portal-mission-events = Próximos eventos e inscripciones.
blurb-portal-mission-groups = Grupos pequeños a los que puede unirse.
blurb-portal-mission-directory = Encuentre a otros miembros.
blurb-portal-mission-prayer = Comparta peticiones y ore por ellas.
admin-title = Administración
admin-heading = Administración de { $portal }
admin-signed-in-as = Ha iniciado sesión como { $role }.
admin-recent-activity = Actividad reciente
admin-whole-audit-log = Todo el registro de auditoría →
audit-col-when = Cuándo
audit-col-who = Quién
audit-col-what = Qué
audit-col-object = Objeto
audit-system = Sistema
tickets-count = { $count ->
    [one] { $count } solicitud
   *[other] { $count } solicitudes
}
admin-storage = Los archivos subidos ocupan { $used } MB de los { $quota } MB de esta organización.
admin-storage-unlimited = Los archivos subidos ocupan { $used } MB (sin límite).
dashboard-read-only = Su acceso es de solo lectura: puede seguir las solicitudes de su empresa, pero no abrirlas ni responderlas. El administrador de su empresa puede cambiarlo.
dashboard-tickets = Sus solicitudes
dashboard-stat-open = { $count ->
    [one] solicitud abierta
   *[other] solicitudes abiertas
}
dashboard-stat-waiting = { $count ->
    [one] espera su respuesta
   *[other] esperan su respuesta
}
dashboard-stat-company = { $count ->
    [one] solicitud abierta en { $company }
   *[other] solicitudes abiertas en { $company }
}
dashboard-raise = Abrir una solicitud
dashboard-replies = Últimas respuestas del soporte
dashboard-replies-empty = Aún no hay respuestas. Cuando el soporte responda a una de sus solicitudes, aparecerá aquí.
dashboard-more = También en su portal
admin-email-failures = { $count ->
    [one] No se pudo entregar 1 correo. Consulte el registro de envíos.
   *[other] No se pudieron entregar { $count } correos. Consulte el registro de envíos.
}
admin-needs-attention = Requiere atención
admin-stat-mine = asignadas a mí
admin-stat-unassigned = sin asignar
admin-stat-breached = fuera de su SLA
admin-stat-due-soon = vencen en menos de 2 horas
admin-queue-by-status = Solicitudes abiertas por estado
admin-my-tickets = Mis solicitudes
admin-my-tickets-empty = No tiene nada asignado ahora mismo.
admin-my-tickets-all = Todas mis solicitudes →
admin-client-replies = Últimas respuestas de clientes
admin-client-replies-empty = Ningún cliente ha respondido todavía.
