# Where a Mission tenant's data comes from: the built-in store or the tenant's Mission API.
mission-source = De dónde vienen los datos de los miembros
mission-source-remote = Nuestro propio sistema Mission, a través de su API (vea el contrato de la API de Mission en la documentación)
mission-remote-url = Dirección de la API de Mission
mission-remote-url-help = Necesaria para el origen por API. Debe empezar por https://.
mission-remote-key = Clave de la API de Mission
mission-remote-key-help = Se guarda sellada y nunca se muestra. Déjela vacía para conservar la clave guardada.
mission-error-remote-url = Indique la dirección de la API, que empiece por https://.
mission-error-remote-key = Indique la clave de API que le dio el sistema Mission.
