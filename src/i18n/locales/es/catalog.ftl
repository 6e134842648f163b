# Catálogo de servicios: páginas del portal y del personal, redacción del SLA, diseñador de formularios y validación.
catalog-intro = Solicite un servicio a su proveedor. Cada servicio indica en cuánto tiempo se responde y se resuelve.
catalog-search = Buscar en el catálogo
catalog-search-button = Buscar
catalog-categories = Categorías
catalog-all-categories = Todos los servicios
catalog-empty = Todavía no se ofrece ningún servicio.
catalog-no-match = Ningún servicio coincide con «{ $q }».
catalog-show-all = Ver todos los servicios
catalog-more = Más servicios
catalog-back = ← Todos los servicios
catalog-sla-title = Nivel de servicio
catalog-price = Precio
catalog-price-hint = Opcional, tal como deben leerlo los clientes («49 € por usuario al mes»).
catalog-request-title = Solicitar este servicio
catalog-no-questions = Sin preguntas: basta con enviar la solicitud.
catalog-choose = Elija…
catalog-submit = Enviar solicitud
catalog-read-only = Su rol puede consultar el catálogo, pero no solicitar servicios. Pídaselo a un compañero con rol de usuario.
catalog-ticket-description = Solicitado mediante el catálogo de servicios: **{ $item }**. Las respuestas figuran a continuación.
catalog-answers-title = Datos de la solicitud: { $item }
catalog-question = Pregunta
catalog-answer = Respuesta
catalog-not-answered = Sin respuesta
catalog-yes = Sí
catalog-no = No
catalog-form-version-note = Respondido en la versión { $count } del formulario.

catalog-sla-first = Primera respuesta en un plazo de { $duration }
catalog-sla-resolution = Resuelto en un plazo de { $duration }
catalog-sla-first-always = Primera respuesta en un plazo de { $duration }, a cualquier hora
catalog-sla-resolution-always = Resuelto en un plazo de { $duration }, a cualquier hora
catalog-dur-business-minutes = { $count ->
    [one] 1 minuto hábil
   *[other] { $count } minutos hábiles
}
catalog-dur-business-hours = { $count ->
    [one] 1 hora hábil
   *[other] { $count } horas hábiles
}
catalog-dur-business-days = { $count ->
    [one] 1 día hábil
   *[other] { $count } días hábiles
}
catalog-dur-minutes = { $count ->
    [one] 1 minuto
   *[other] { $count } minutos
}
catalog-dur-hours = { $count ->
    [one] 1 hora
   *[other] { $count } horas
}
catalog-dur-days = { $count ->
    [one] 1 día
   *[other] { $count } días
}

catalog-error-required = Responda a esta pregunta, por favor.
catalog-error-tick = Marque esta casilla para continuar.
catalog-error-too-long = El texto es demasiado largo.
catalog-error-number = Escriba un número, como 3 o 2.5.
catalog-error-date = Escriba una fecha con el formato AAAA-MM-DD.
catalog-error-email = Escriba una dirección de correo, como nombre@ejemplo.com.
catalog-error-choice = Elija una de las opciones ofrecidas.
catalog-error-name = Escriba un nombre.
catalog-error-icon = Elija un icono de la lista.
catalog-error-minutes = Indique un tiempo entre 1 minuto y un año.
catalog-error-resolution = Indique un tiempo de resolución no menor que el de primera respuesta y de un año como máximo.
catalog-error-hours = Elija horario laboral o a cualquier hora.
catalog-error-visibility = Elija quién puede ver este servicio.
catalog-error-companies = Elija al menos una empresa de esta organización.
catalog-error-category = Elija una categoría.
catalog-error-category-taken = Ya existe una categoría con ese nombre.
catalog-error-category-in-use = Primero mueva o elimine los servicios de esta categoría.
catalog-error-item-in-use = Este servicio ya se ha solicitado y no puede eliminarse. Desactívelo en su lugar.
catalog-error-too-many-fields = Un formulario admite como máximo 40 preguntas.
catalog-error-field-key = El identificador de esta pregunta no es válido o está repetido.
catalog-error-field-label = Escriba la pregunta (hasta 200 caracteres).
catalog-error-field-help = La línea de ayuda admite hasta 200 caracteres.
catalog-error-field-choices = Escriba las opciones, una por línea (de hasta 200 caracteres cada una).

catalog-new-item = Nuevo servicio
catalog-back-admin = ← Catálogo
catalog-items = Servicios
catalog-admin-empty = Todavía no hay servicios. Añada una categoría y después un servicio.
catalog-no-categories = Todavía no hay categorías. Añada la primera a continuación.
catalog-new-category = Nueva categoría
catalog-add-category = Añadir categoría
catalog-category = Categoría
catalog-category-name-for = Nombre de { $name }
catalog-category-position-for = Posición de { $name }
catalog-delete-category = Eliminar { $name }
catalog-confirm-delete-category = ¿Desea eliminar la categoría { $name }?
catalog-item-count = { $count ->
    [one] 1 servicio
   *[other] { $count } servicios
}
catalog-visibility = Quién puede verlo
catalog-visibility-all = Todas las empresas
catalog-visibility-companies = Solo las empresas elegidas abajo
catalog-companies = Empresas
catalog-active = Activo
catalog-inactive = Inactivo
catalog-active-label = Ofrecido a los clientes (activo)
catalog-form-version = Versión del formulario
catalog-form-version-current = El formulario de solicitud está en la versión { $count }. Al guardar un formulario modificado se crea una versión nueva; las solicitudes ya enviadas conservan la suya.
catalog-item-details = Servicio
catalog-icon = Icono
catalog-description = Descripción
catalog-who = Disponibilidad
catalog-sla-first-label = Primera respuesta en
catalog-sla-resolution-label = Resuelto en
catalog-amount = Cantidad
catalog-unit = Unidad
catalog-unit-minutes = minutos
catalog-unit-hours = horas
catalog-unit-days = días
catalog-hours = Horario
catalog-hours-business = Horario laboral (de lunes a viernes, de 09:00 a 17:00)
catalog-hours-always = A cualquier hora (24×7)
catalog-designer = Formulario de solicitud
catalog-designer-hint = Cada pregunta conserva su identidad al editarla, de modo que las solicitudes antiguas se siguen leyendo bien. Deje vacío el texto de una pregunta nueva para omitirla; cambie las posiciones para reordenar.
catalog-question-n = Pregunta { $count }
catalog-field-label = Pregunta
catalog-field-kind = Tipo de respuesta
catalog-field-help = Línea de ayuda
catalog-field-choices = Opciones
catalog-field-choices-hint = Una por línea (para los tipos de elección)
catalog-field-position = Posición
catalog-field-required = Obligatoria
catalog-field-remove = Quitar esta pregunta
catalog-add-question = Añadir una pregunta
catalog-delete-title = Eliminar este servicio
catalog-delete-hint = Solo puede eliminarse un servicio que nadie haya solicitado; si no, desactívelo.
catalog-delete-item = Eliminar servicio
catalog-confirm-delete-item = ¿Desea eliminar el servicio { $name }? No se puede deshacer.
catalog-notice-saved = Guardado.
catalog-notice-deleted = Eliminado.
catalog-kind-short-text = Texto corto
catalog-kind-long-text = Texto largo
catalog-kind-number = Número
catalog-kind-date = Fecha
catalog-kind-single-choice = Elección única
catalog-kind-multiple-choice = Elección múltiple
catalog-kind-checkbox = Casilla
catalog-kind-email = Dirección de correo
catalog-icon-key = Llave
catalog-icon-laptop = Portátil
catalog-icon-monitor = Monitor
catalog-icon-phone = Teléfono
catalog-icon-printer = Impresora
catalog-icon-app = Aplicación
catalog-icon-mail = Correo
catalog-icon-network = Red
catalog-icon-shield = Escudo
catalog-icon-cloud = Nube
catalog-icon-person = Persona
catalog-icon-box = Caja

audit-say-catalog-item-created = { $actor } añadió el servicio de catálogo { $object }
audit-say-catalog-item-updated = { $actor } modificó el servicio de catálogo { $object }
audit-say-catalog-item-deleted = { $actor } eliminó el servicio de catálogo { $object }
audit-say-catalog-category-created = { $actor } añadió la categoría de catálogo { $object }
audit-say-catalog-category-updated = { $actor } modificó la categoría de catálogo { $object }
audit-say-catalog-category-deleted = { $actor } eliminó la categoría de catálogo { $object }
audit-say-catalog-requested = Una solicitud del catálogo se convirtió en la solicitud { $object }
