# Solicitudes: páginas del portal y del personal, sus avisos y mensajes de validación.
ticket-status-new = Nueva
ticket-status-open = Abierta
ticket-status-pending = Esperando su respuesta
ticket-status-on-hold = En pausa
ticket-status-resolved = Resuelta
ticket-status-closed = Cerrada

ticket-priority-low = Baja
ticket-priority-normal = Normal
ticket-priority-high = Alta
ticket-priority-urgent = Urgente

ticket-sla-ok = A tiempo
ticket-sla-due-soon = Vence pronto
ticket-sla-breached = Vencida

ticket-category-general = General
ticket-category-hardware = Hardware
ticket-category-software = Software
ticket-category-network = Red
ticket-category-access = Accesos
ticket-category-billing = Facturación

ticket-subject = Asunto
ticket-description = Descripción
ticket-priority = Prioridad
ticket-category = Categoría
ticket-requester = Solicitante
ticket-assignee = Responsable
ticket-assigned-to = Asignada a
ticket-not-assigned = Aún sin asignar
ticket-unassigned = Sin asignar
ticket-cc = Cc
ticket-raised = Fecha de apertura
ticket-first-reply-due = Plazo de primera respuesta
ticket-answered-at = (respondida el { $date })
ticket-resolution-due = Plazo de resolución
ticket-sla = ANS
ticket-updated = Actualizada
ticket-attachments = Adjuntos
ticket-conversation = Conversación
ticket-internal-note = Nota interna
ticket-no-replies = Todavía no hay respuestas.
ticket-status-history = Historial de estados
ticket-history-by = por { $name }
ticket-history-reason = — «{ $reason }»

ticket-back-to-list = ← Solicitudes
ticket-back-to-queue = ← Cola de solicitudes
ticket-raise = Abrir una solicitud
ticket-raise-button = Abrir solicitud
ticket-queue-title = Cola de solicitudes
ticket-new-title = Nueva solicitud
ticket-new-for-client = Nueva solicitud para un cliente
ticket-create-button = Crear solicitud
ticket-choose-client = Elija un usuario del cliente…
ticket-description-hint = (qué ha pasado, desde cuándo y qué esperaba; admite Markdown)
ticket-description-staff-hint = (admite Markdown; el cliente lo verá)
ticket-attachments-hint = (capturas de pantalla, PDF, registros, documentos de ofimática o zip)
ticket-cc-legend = Mantener informados a sus compañeros
ticket-message = Mensaje
ticket-markdown-hint = (admite Markdown)
ticket-attach-again = Vuelva a adjuntar los archivos.
ticket-send = Enviar
ticket-add-comment = Añadir un comentario
ticket-solved-title = ¿Resuelto?
ticket-solved-button = Mi problema está resuelto
ticket-confirm-close = { $days ->
    [one] ¿Cerrar la solicitud n.º { $number }? Puede reabrirla durante { $days } día.
   *[other] ¿Cerrar la solicitud n.º { $number }? Puede reabrirla durante { $days } días.
}
ticket-problem-back = ¿Ha vuelto el problema?
ticket-reopen-hint = { $days ->
    [one] Puede reabrir esta solicitud durante { $days } día desde que se terminó.
   *[other] Puede reabrir esta solicitud durante { $days } días desde que se terminó.
}
ticket-reopen-why = ¿Por qué no está resuelto?
ticket-reopen-button = Reabrir la solicitud
ticket-work-title = Gestionar la solicitud
ticket-reply-title = Responder o añadir una nota

ticket-live-changed = Hay cambios en las solicitudes.
ticket-refresh-list = Actualizar la lista
ticket-refresh-queue = Actualizar la cola
ticket-filter-show = Mostrar
ticket-filter-open = Abiertas
ticket-filter-all-open = Todas las abiertas
ticket-filter-closed = Resueltas y cerradas
ticket-filter-all = Todas
ticket-filter-only-new = Solo nuevas
ticket-filter-only-open = Solo abiertas
ticket-filter-only-on-hold = Solo en pausa
ticket-filter-only-resolved = Solo resueltas
ticket-filter-only-closed = Solo cerradas
ticket-filter-any = Cualquiera
ticket-filter-anyone = Cualquier persona
ticket-filter-whose = De quién
ticket-filter-company = Todas las de la empresa
ticket-filter-mine = Mías y en copia
ticket-sort = Orden
ticket-sort-by = Ordenar por
ticket-sort-updated = Última actualización
ticket-sort-created = Más recientes
ticket-search = Buscar
ticket-search-placeholder = Palabras o n.º de solicitud
ticket-apply = Aplicar
ticket-list-empty-open = No hay solicitudes abiertas.
ticket-list-empty-closed = No hay solicitudes terminadas.
ticket-list-empty-all = No hay solicitudes.
ticket-list-empty-when = cuando haya algo que arreglar.
ticket-search-empty = Ninguna solicitud coincide con «{ $q }». Pruebe con otras palabras o
ticket-show-all = vea todas las solicitudes
ticket-queue-empty = Ninguna solicitud coincide con estos filtros.
ticket-show-every = Ver todas las solicitudes
ticket-older = Solicitudes anteriores
ticket-more = Más solicitudes

ticket-notice-created = Su solicitud se ha abierto. Le responderemos aquí y por correo electrónico.
ticket-notice-commented = Se ha añadido su comentario.
ticket-notice-closed = ¡Gracias! La solicitud está cerrada. Puede reabrirla si el problema vuelve.
ticket-notice-reopened = La solicitud vuelve a estar abierta. La revisaremos en breve.
ticket-notice-staff-created = Se ha creado la solicitud.
ticket-notice-replied = Se ha enviado su respuesta.
ticket-notice-noted = Se ha añadido su nota interna.

ticket-error-subject = Escriba un breve resumen del problema.
ticket-error-description = Describa el problema: qué ha pasado y qué esperaba.
ticket-error-message = Escriba un mensaje.
ticket-error-priority = Elija baja, normal, alta o urgente.
ticket-error-category = Elija una de las categorías de la lista.
ticket-error-attach-again = Por su seguridad, los navegadores olvidan los archivos elegidos: vuelva a adjuntarlos.
ticket-error-requester = Elija el usuario del cliente para quien es la solicitud.
ticket-error-status-value = Use new, open, pending, on_hold, resolved o closed.
ticket-error-priority-value = Use low, normal, high o urgent.
ticket-error-assignee = Elija un técnico de su equipo.
ticket-error-transition = Una solicitud en estado «{ $from }» no puede pasar a «{ $to }». Posibles: { $options }.
ticket-error-finished-comment = Esta solicitud está terminada. Reábrala para añadir un comentario.
ticket-error-finished-files = Esta solicitud está terminada. Reábrala para añadir archivos.
ticket-error-conflict = Otra persona ha cambiado esta solicitud a la vez. Recargue la página e inténtelo de nuevo.
ticket-error-reopen-reason = Díganos por qué el problema no está resuelto.
ticket-error-still-open = Esta solicitud sigue abierta.
ticket-error-reopen-too-late = { $days ->
    [one] Esta solicitud se terminó hace más de { $days } día y ya no se puede reabrir. Abra una solicitud nueva.
   *[other] Esta solicitud se terminó hace más de { $days } días y ya no se puede reabrir. Abra una solicitud nueva.
}
ticket-status-pending-staff = Esperando al cliente
ticket-filter-only-pending-staff = Solo esperando al cliente

## Staff workflow: reply or note
ticket-compose-mode = Cómo enviarlo
ticket-compose-reply = Responder al cliente
ticket-compose-note = Nota interna
ticket-compose-note-banner = Solo el personal verá esto. No se avisa al cliente.
ticket-compose-reply-banner = El cliente y todas las personas en copia verán esta respuesta y la recibirán por correo.
ticket-compose-send-reply = Enviar respuesta
ticket-compose-send-note = Añadir nota interna
ticket-error-compose-kind = Elige «Responder al cliente» o «Nota interna».
ticket-shortcut-reply-hint = Teclado: pulsa r para escribir en este cuadro.

## Staff workflow: emails to staff and replies by email
ticket-email-new-subject = [#{ $number }] Nueva solicitud: { $subject }
ticket-email-new-intro = { $requester } ({ $company }) abrió la solicitud #{ $number }: { $subject }
ticket-email-priority-line = Prioridad: { $priority }
ticket-email-client-reply-subject = [#{ $number }] El cliente respondió: { $subject }
ticket-email-client-reply-intro = { $author } respondió a la solicitud #{ $number }: { $subject }
ticket-email-reopened-subject = [#{ $number }] Reabierta: { $subject }
ticket-email-reopened-intro = { $author } reabrió la solicitud #{ $number }: { $subject }
ticket-email-confirm-subject = [#{ $number }] Hemos abierto una solicitud para ti: { $subject }
ticket-email-confirm-intro = { $author } abrió la solicitud #{ $number } para ti: { $subject }
ticket-email-confirm-body = Te responderemos por correo y en el portal, donde puedes seguirla.
ticket-email-sla-subject = [#{ $number }] Vence pronto: { $subject }
ticket-email-sla-first-response = La primera respuesta a la solicitud #{ $number } «{ $subject }» vence el { $due }.
ticket-email-sla-resolution = La solicitud #{ $number } «{ $subject }» debe resolverse antes del { $due }.
ticket-email-reply-by-email = Para contestar, responde a este correo o escribe a { $address }.
ticket-error-email-duplicate = Este correo ya se añadió a la solicitud.
ticket-inbound-disabled = Las respuestas por correo no están configuradas (PORTICO_INBOUND_SECRET y PORTICO_INBOUND_DOMAIN).
ticket-inbound-bad-secret = El secreto de entrada falta o no es correcto.
ticket-inbound-too-large = El mensaje es demasiado grande para añadirlo como respuesta.
ticket-inbound-not-a-message = El cuerpo no es un mensaje de correo (RFC 822).
ticket-inbound-no-address = El mensaje no va dirigido a la dirección de respuesta de una solicitud.
ticket-inbound-bad-token = La dirección de respuesta no es válida para ninguna solicitud.
ticket-inbound-unknown-sender = El remitente no es el solicitante, una persona en copia ni personal de esta solicitud.
ticket-inbound-empty = La respuesta no tiene texto encima del mensaje citado.

## Staff workflow: saved views, bulk actions, shortcuts
ticket-views-title = Vistas guardadas
ticket-view-name = Guardar estos filtros como
ticket-view-save = Guardar vista
ticket-view-saved = La vista se ha guardado.
ticket-view-deleted = La vista se ha eliminado.
ticket-view-delete-confirm = ¿Eliminar la vista «{ $name }»?
ticket-view-delete-label = Eliminar la vista «{ $name }»
ticket-view-error-name = Pon un nombre a la vista (60 caracteres como máximo).
ticket-view-error-too-many = Ya tienes 30 vistas. Elimina una primero.
ticket-bulk-label = Cambiar las solicitudes seleccionadas
ticket-bulk-select = Seleccionar
ticket-bulk-select-all = Seleccionar todas las solicitudes de esta página
ticket-bulk-select-one = Seleccionar la solicitud #{ $number }
ticket-bulk-assign-to = Asignar las seleccionadas a
ticket-bulk-assign = Asignar
ticket-bulk-status-to = Poner las seleccionadas en
ticket-bulk-set-status = Cambiar estado
ticket-bulk-result-title = Resultado del cambio
ticket-bulk-changed = cambiada.
ticket-bulk-not-found = no existe esa solicitud.
ticket-bulk-applied = Se aplicó el cambio; abajo está el resultado de cada solicitud.
ticket-bulk-none-changed = No se cambió ninguna solicitud; abajo está el motivo de cada una.
ticket-bulk-error-action = Elige «Asignar» o «Cambiar estado».
ticket-bulk-error-none = Selecciona al menos una solicitud.
ticket-bulk-error-too-many = Selecciona como máximo 200 solicitudes a la vez.
ticket-shortcuts-title = Atajos de teclado
ticket-shortcuts-move = moverse entre solicitudes
ticket-shortcuts-open = abre la solicitud
ticket-shortcuts-reply = en una solicitud escribe una respuesta
