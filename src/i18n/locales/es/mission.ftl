# El portal Mission: ofrendas, directorio, muro de oración y sus páginas de personal.
nav-prayer-requests = Peticiones de oración
nav-mission-settings = Ajustes de Mission
mission-admin = Administración de Mission
mission-source-builtin = Los datos de Mission se guardan en este portal (origen integrado).
mission-source-unavailable = La información de Mission no está disponible ahora. Vuelva a intentarlo más tarde.
mission-fix-errors = Corrija los campos indicados abajo.
mission-save = Guardar
mission-apply = Aplicar
mission-search = Buscar
mission-choose = Elija…
mission-ok = Correcto

# Ofrendas
mission-give-now = Ofrendar ahora
mission-totals-by-year = Sus ofrendas por año
mission-totals-by-fund = Por fondo en { $year }
mission-gift-count = { $count ->
    [one] una ofrenda
   *[other] { $count } ofrendas
}
mission-giving-empty = Aún no hay ofrendas registradas.
mission-giving-none-match = Ninguna ofrenda coincide con estos filtros.
mission-statement-heading = Certificado anual
mission-statement-help = Descargue su certificado de ofrendas de { $year } (elija otro año con el filtro de abajo).
mission-statement-pdf = Certificado (PDF)
mission-statement-csv = Ofrendas (CSV)
mission-statement-title = Certificado de ofrendas { $year }
mission-statement-tax-id = Identificación fiscal: { $id }
mission-statement-none = No se registraron ofrendas en este año.
mission-statement-total = Total
mission-statement-default-wording = Gracias por su generosidad.
mission-year = Año
mission-all-years = Todos los años
mission-fund = Fondo
mission-all-funds = Todos los fondos
mission-date = Fecha
mission-method = Forma de pago
mission-amount = Importe
mission-recurring = Periódica
mission-method-cash = Efectivo
mission-method-check = Cheque
mission-method-card = Tarjeta
mission-method-bank = Transferencia
mission-method-online = En línea
mission-method-other = Otra
mission-ytd = Ofrendado en { $year }
mission-latest-gift = Última ofrenda: { $amount } a { $fund } el { $date }.

# Ofrendas, personal
mission-admin-giving = Ofrendas
mission-record-gift = Registrar una ofrenda
mission-member = Miembro
mission-funds = Fondos
mission-funds-empty = Aún no hay fondos. Añada el primero abajo.
mission-fund-name = Nombre del fondo
mission-add-fund = Añadir fondo
mission-import = Importar ofrendas desde CSV
mission-import-help = Pegue un CSV con fila de encabezado: email,date,fund,amount,method,recurring (method y recurring son opcionales; fechas como AAAA-MM-DD). Revise primero la vista previa; no se importa nada mientras alguna fila tenga un problema.
mission-import-csv = CSV
mission-import-preview = Vista previa
mission-import-go = Importar
mission-import-has-errors = Algunas filas tienen problemas, así que no se importó nada. Corríjalas y vuelva a intentarlo.
mission-import-ready = { $count ->
    [one] Una ofrenda está lista para importar.
   *[other] { $count } ofrendas están listas para importar.
}
mission-import-columns = La fila de encabezado necesita las columnas email, date, fund y amount.
mission-import-empty = El archivo no tiene ofrendas.
mission-import-unreadable = No se pudo leer el archivo como CSV.
mission-import-too-long = El archivo tiene demasiadas filas (como máximo 5.000).
mission-line = Línea
mission-problems = Problemas
mission-recent-gifts = Ofrendas recientes
mission-admin-gifts-empty = Aún no hay ofrendas registradas.
mission-notice-gift-recorded = Se registró la ofrenda.
mission-notice-fund-created = Se añadió el fondo.
mission-notice-imported = Se importaron las ofrendas.
mission-error-amount-missing = Indique el importe.
mission-error-amount-invalid = Indique el importe como número, por ejemplo 25.00.
mission-error-amount-decimals = Use como máximo dos decimales.
mission-error-amount-positive = El importe debe ser mayor que cero.
mission-error-amount-large = El importe es demasiado grande.
mission-error-member = Elija un miembro de esta iglesia (email desconocido).
mission-error-date = Indique la fecha como AAAA-MM-DD.
mission-error-fund = Elija un fondo abierto.
mission-error-method = Elija cash, check, card, bank, online u other.
mission-error-fund-name = Indique el nombre del fondo.
mission-error-fund-exists = Ya existe un fondo con ese nombre.

# Ajustes
mission-currency = Moneda (código ISO)
mission-org-address = Dirección de la organización (aparece en los certificados)
mission-tax-id = Identificación fiscal
mission-statement-wording = Texto del certificado
mission-giving-url = Página externa de ofrendas
mission-giving-url-help = Si se indica, los miembros ven un botón «Ofrendar ahora» que lleva allí (solo https).
mission-prayer-approval = Las nuevas peticiones de oración esperan la aprobación del personal
mission-notice-settings-saved = Se guardaron los ajustes de Mission.
mission-error-currency = Indique un código de moneda de tres letras, como USD.
mission-error-giving-url = Indique una dirección que empiece por https://.

# Directorio
mission-directory-my-choices = Lo que ven los demás
mission-directory-search = Buscar por nombre
mission-directory-empty = Aún no hay nadie en el directorio.
mission-directory-no-match = Nadie del directorio coincide con «{ $q }».
mission-directory-default = De forma predeterminada, los demás miembros solo ven su nombre. Elija qué más compartir o salga del directorio.
mission-directory-show = Mostrar también
mission-show-listed = Incluirme en el directorio de miembros
mission-household = Hogar
mission-phone = Teléfono
mission-address = Dirección
mission-address-help = También aparece en sus certificados de ofrendas.
mission-birthday = Cumpleaños
mission-birthday-day-month = Cumpleaños (solo día y mes)
mission-birthday-help = Mes y día como MM-DD, por ejemplo 04-12. El año nunca se muestra.
mission-notice-choices-saved = Se guardaron sus preferencias del directorio.
mission-error-birthday = Indique el cumpleaños como MM-DD, por ejemplo 04-12.

# Muro de oración
mission-prayer-new = Compartir una petición de oración
mission-prayer-body = Su petición
mission-prayer-who = Quién puede verla
mission-prayer-shared = Los miembros de la iglesia
mission-prayer-private = Solo el equipo pastoral
mission-prayer-anonymous = Ocultar mi nombre a los demás miembros
mission-prayer-post = Publicar petición
mission-prayer-empty = Aún no hay peticiones de oración.
mission-prayer-someone = Alguien de nuestra iglesia
mission-prayer-private-badge = Privada
mission-prayer-anonymous-badge = Anónima para los miembros
mission-prayer-pending-badge = Pendiente de aprobación
mission-prayer-hidden-badge = Ocultada por el personal
mission-prayer-answered = ¡Respondida!
mission-prayed-count = { $count ->
    [0] Nadie ha orado todavía
    [one] Una persona oró
   *[other] { $count } personas oraron
}
mission-i-prayed = Oré
mission-you-prayed = Usted oró
mission-mark-answered = Marcar como respondida
mission-praise = Testimonio (opcional)
mission-report = Denunciar
mission-confirm-report = ¿Desea avisar al equipo pastoral sobre esta petición?
mission-newest-prayers = Peticiones de oración recientes
mission-notice-prayer-posted = Se publicó su petición.
mission-notice-prayer-pending = Se envió su petición; aparecerá cuando el personal la apruebe.
mission-notice-prayed = Gracias por orar.
mission-notice-answered = ¡Gloria a Dios! Su petición quedó marcada como respondida.
mission-notice-reported = Gracias. El equipo pastoral la revisará.
mission-error-prayer-body = Escriba su petición.
mission-error-too-long = Use menos de 2.000 caracteres.
mission-error-visibility = Elija quién puede verla.
mission-error-not-published = Esta petición aún no está en el muro.
mission-error-not-yours = Solo quien hizo la petición puede marcarla como respondida.
mission-error-moderation = Elija aprobar, ocultar o eliminar.

# Oración, personal
mission-queue = Cola de moderación
mission-queue-pending = Pendientes de aprobación
mission-queue-reported = Denunciadas
mission-queue-private = Privadas
mission-queue-all = Todas
mission-queue-empty = No hay nada aquí.
mission-status-pending = Pendiente de aprobación
mission-status-published = En el muro
mission-status-hidden = Oculta
mission-reports = { $count ->
    [one] una denuncia
   *[other] { $count } denuncias
}
mission-action-approve = Aprobar
mission-action-hide = Ocultar
mission-action-delete = Eliminar
mission-confirm-delete = ¿Desea eliminar definitivamente esta petición de oración?
mission-notice-moderated = Hecho.

# Frases del registro de actividad
audit-say-mission-settings-changed = { $actor } cambió los ajustes de Mission.
audit-say-mission-gift-recorded = { $actor } registró una ofrenda.
audit-say-mission-fund-created = { $actor } añadió el fondo { $object }.
audit-say-mission-directory-changed = { $actor } cambió lo que el directorio muestra sobre su persona.
audit-say-mission-prayer-posted = { $actor } publicó una petición de oración.
audit-say-mission-prayer-answered = { $actor } marcó una petición de oración como respondida.
audit-say-mission-prayer-reported = { $actor } denunció una petición de oración.
audit-say-mission-prayer-approved = { $actor } aprobó una petición de oración.
audit-say-mission-prayer-hidden = { $actor } ocultó una petición de oración.
audit-say-mission-prayer-deleted = { $actor } eliminó una petición de oración.

# Households
nav-households = Hogares
households-empty = Todavía no hay hogares. Cree uno abajo y añada sus miembros.
households-col-household = Hogar
households-col-members = Miembros
households-col-member = Miembro
households-col-sharing = Constancia de donaciones
households-col-actions = Acciones
households-next = Página siguiente
households-new = Nuevo hogar
households-name = Nombre del hogar
households-create = Crear hogar
households-back = ← Todos los hogares
households-no-members = Todavía no hay nadie en este hogar.
households-everyone-housed = Todos los miembros ya están en un hogar.
households-add = Añadir un miembro
households-add-button = Añadir al hogar
households-remove = Quitar a { $name }
households-remove-confirm = ¿Quitar a { $name } de este hogar? Sigue siendo miembro.
households-rename = Renombrar o eliminar
households-delete = Eliminar hogar
households-delete-confirm = ¿Eliminar este hogar? Sus miembros siguen siendo miembros, sin hogar.
households-sharing = comparte sus donaciones en la constancia del hogar
households-not-sharing = no compartido
households-mine = Mi hogar
households-none-mine = No está en ningún hogar. El personal de la iglesia puede añadirle a uno.
households-share-label = Incluir mis donaciones en la constancia de donaciones de mi hogar
households-statement-pdf = Constancia del hogar (PDF)
households-giver = Donado por
households-notice-created = Se creó el hogar.
households-notice-saved = Se cambió el nombre del hogar.
households-notice-deleted = Se eliminó el hogar; sus miembros siguen.
households-notice-added = Se añadió el miembro al hogar.
households-notice-removed = Se quitó el miembro del hogar.
households-notice-sharing = Se guardó su elección.
households-error-name = Escriba un nombre para el hogar.
households-error-member = Elija un miembro de esta iglesia.
households-error-elsewhere = Este miembro ya está en otro hogar. Quítelo de allí primero.

# Year-end statements
nav-giving-statements = Constancias de donaciones
statements-intro = Prepare de una vez la constancia anual de cada donante: envíe a cada uno la suya por correo o descárguelas todas en un archivo.
statements-start = Preparar constancias
statements-delivery = Cómo entregarlas
statements-delivery-email = Enviar a cada donante su constancia por correo
statements-delivery-archive = Un archivo (zip) para descargar
statements-start-button = Iniciar
statements-runs = Ejecuciones
statements-runs-empty = Todavía no se han preparado constancias.
statements-status-queued = En espera
statements-status-running = Preparando
statements-status-sending = Enviando
statements-status-done = Terminado
statements-status-failed = Falló
statements-progress = { $done } de { $total }
statements-progress-label = Progreso de las constancias de
statements-download = Descargar archivo
statements-notice-started = Se están preparando las constancias. El progreso se muestra abajo.
statements-error-year = Escriba un año, por ejemplo 2025.
statements-error-delivery = Elija cómo entregar las constancias.
statements-email-subject = Su constancia de donaciones de { $year }
statements-email-greeting = Estimado/a { $name }:
statements-email-body = Gracias por su generosidad. Adjuntamos su constancia de donaciones de { $year }.
statements-email-open = Ver sus donaciones
# Ofrendar ahora y ofrendas periódicas
mission-give-amount = Importe ({ $currency })
mission-give-limits = De { $min } a { $max }.
mission-give-submit = Continuar al pago
mission-give-help = Paga en la página segura de nuestro proveedor de pagos. Su ofrenda aparece aquí cuando se confirma el pago.
mission-give-link-help = Nuestra organización recibe ofrendas en su propia página.
mission-give-online = Ofrendar en línea
mission-give-unavailable = No es posible ofrendar en línea. Pregunte en la oficina de la iglesia cómo ofrendar.
mission-error-give-min = La ofrenda mínima en línea es 1,00.
mission-error-give-max = La ofrenda máxima en línea es 100.000,00.
mission-error-give-currency = Las ofrendas se hacen en la moneda de la organización.
mission-error-give-unavailable = Esta organización no recibe ofrendas en línea.
mission-error-provider = No se pudo contactar con el proveedor de pagos. Inténtelo de nuevo en un momento.
mission-error-frequency = Elija semanal o mensual.
mission-error-start-on = Elija una fecha de inicio desde hoy hasta dentro de un año.
mission-error-card-needed = Guarde primero una tarjeta: las ofrendas periódicas se cargan a ella.
mission-error-recurring-status = El estado debe ser en pausa o activa.
mission-error-recurring-remote = Las ofrendas periódicas se gestionan en el sistema propio de su organización.
mission-error-provider-url = Escriba una dirección https del proveedor de pagos, o déjela vacía.
mission-notice-given = ¡Gracias! Su ofrenda de { $amount } a { $fund } está registrada.
mission-notice-give-processing = ¡Gracias! Su pago se está confirmando; la ofrenda aparecerá aquí en un momento.
mission-notice-give-cancelled = El pago se canceló. No se cobró nada.
mission-notice-card-saved = Su tarjeta está guardada. Aparece aquí cuando el proveedor de pagos la confirma.
mission-notice-recurring-created = Su ofrenda periódica está configurada.
mission-notice-recurring-changed = Su ofrenda periódica se ha cambiado.
mission-notice-recurring-paused = Su ofrenda periódica está en pausa. No se cobra nada hasta que la reanude.
mission-notice-recurring-resumed = Su ofrenda periódica se ha reanudado.
mission-notice-recurring-cancelled = Su ofrenda periódica se ha cancelado.
mission-recurring-heading = Ofrendas periódicas
mission-recurring-none = No tiene ofrendas periódicas.
mission-recurring-none-staff = No hay ofrendas periódicas.
mission-recurring-next = Próxima ofrenda: { $date }
mission-recurring-failed = El último cobro falló:
mission-recurring-failed-short = Último cobro fallido:
mission-recurring-change = Cambiar
mission-recurring-pause = Pausar
mission-recurring-resume = Reanudar
mission-recurring-cancel = Cancelar
mission-recurring-new = Configurar una ofrenda periódica
mission-recurring-card = Las ofrendas periódicas se cargan a { $card }.
mission-recurring-no-card = Guarde una tarjeta para configurar una ofrenda periódica.
mission-recurring-save-card = Guardar una tarjeta
mission-recurring-replace-card = Usar otra tarjeta
mission-recurring-start = Primera ofrenda el
mission-recurring-submit = Configurar ofrenda periódica
mission-recurring-no-provider = Podrá configurar ofrendas periódicas cuando la organización acepte pagos en línea.
mission-recurring-change-heading = Cambiar ofrenda periódica
mission-recurring-cancel-heading = Cancelar ofrenda periódica
mission-recurring-cancel-help = No se cobrará nada más. Las ofrendas ya hechas siguen en su historial.
mission-recurring-cancel-confirm = Cancelar esta ofrenda periódica
mission-recurring-keep = Mantenerla
mission-recurring-status-active = Activa
mission-recurring-status-paused = En pausa
mission-recurring-status-cancelled = Cancelada
mission-back-to-giving = Volver a ofrendas
mission-frequency = Frecuencia
mission-frequency-weekly = Semanal
mission-frequency-monthly = Mensual
mission-next-gift = Próxima ofrenda
mission-status = Estado
mission-provider-heading = Pagos en línea
mission-provider-help = El proveedor de pagos con el que ofrendan los miembros (el mismo de las facturas). Sin él, los miembros ven el enlace externo para ofrendar, si lo hay.
mission-provider-webhook = Dirija el webhook del proveedor a { $url }
mission-provider-url = Dirección de la API del proveedor
mission-provider-url-help = Déjela vacía para el proveedor estándar.
mission-provider-key = Clave secreta de la API
mission-provider-webhook-secret = Secreto de firma del webhook
mission-provider-key-set = Guardada. Déjela vacía para conservarla.
mission-provider-key-unset = Sin configurar.
audit-say-mission-give-started = { $actor } inició una ofrenda en línea.
audit-say-mission-gift-given-online = { $actor } ofrendó en línea.
audit-say-mission-card-setup-started = { $actor } empezó a guardar una tarjeta para ofrendas periódicas.
audit-say-mission-recurring-created = { $actor } configuró una ofrenda periódica a { $object }.
audit-say-mission-recurring-changed = { $actor } cambió una ofrenda periódica a { $object }.
audit-say-mission-recurring-paused = { $actor } pausó una ofrenda periódica a { $object }.
audit-say-mission-recurring-resumed = { $actor } reanudó una ofrenda periódica a { $object }.
audit-say-mission-recurring-cancelled = { $actor } canceló una ofrenda periódica a { $object }.
audit-say-mission-recurring-charged = { $actor } cobró una ofrenda periódica a { $object }.
audit-say-mission-recurring-failed = { $actor } no pudo cobrar una ofrenda periódica a { $object }.
audit-say-mission-payment-settings-changed = { $actor } cambió la configuración de pagos en línea.
mission-checkout-redirect = Le llevamos a la página de pago segura…
mission-checkout-continue = Continuar a la página de pago
