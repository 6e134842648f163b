jobs-empty = Aún no se ha enviado nada. Aquí aparecen las invitaciones y los correos para restablecer la contraseña.
jobs-col-attempts = Intentos
jobs-col-last-error = Último error
jobs-col-next-run = Próximo intento
jobs-col-queued = En cola desde
jobs-confirm-retry = ¿Ejecutar esta tarea de nuevo ahora?
jobs-retry = Reintentar ahora
jobs-older = Tareas anteriores
jobs-intro = Correos y otras tareas en segundo plano de su organización, de la más reciente a la más antigua.
job-status-queued = en cola
job-status-running = en curso
job-status-done = hecha
job-status-failed = fallida
job-status-cancelled = cancelada
jobs-intro-retries = { $count ->
    [one] Un intento fallido se repite automáticamente con pausas crecientes (30 segundos, 1 minuto, 2 minutos …); tras { $count } intento la tarea se marca como fallida y le espera.
   *[other] Un intento fallido se repite automáticamente con pausas crecientes (30 segundos, 1 minuto, 2 minutos …); tras { $count } intentos la tarea se marca como fallida y le espera.
}
